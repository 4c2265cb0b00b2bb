// The coordinator's own count of jobs by type and status (the /metrics
// gauge): a load at start, then the published rows as they come (twice,
// late, out of order) and the rows retention deletes.
#define BOOST_TEST_MODULE job_counts
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "core/job_counts.hpp"

using namespace matchsync;

namespace {

constexpr auto inc = job_type::incremental_sync;
constexpr auto full = job_type::full_sync;
constexpr auto pending = job_status::pending;
constexpr auto running = job_status::running;
constexpr auto completed = job_status::completed;
constexpr auto failed = job_status::failed;
constexpr auto cancelled = job_status::cancelled;

sync_job row(std::int64_t id, job_type t, job_status s, std::int32_t attempt = 1) {
  sync_job j;
  j.id = id;
  j.type = t;
  j.status = s;
  j.attempt = attempt;
  return j;
}

// The snapshot's non-zero counts as "type/status" -> n.
std::map<std::string, std::int64_t> nonzero(const job_counts& c) {
  std::map<std::string, std::int64_t> out;
  for (auto& x : c.snapshot())
    if (x.n != 0)
      out[std::string(to_string(x.type)) + "/" + to_string(x.status)] = x.n;
  return out;
}

using counts = std::map<std::string, std::int64_t>;

}  // namespace

BOOST_AUTO_TEST_SUITE(job_counts_suite)

BOOST_AUTO_TEST_CASE(before_the_load_there_is_nothing_to_show_and_rows_are_ignored) {
  job_counts c;
  BOOST_TEST(!c.loaded());
  BOOST_TEST(c.snapshot().empty());
  c.apply(row(1, inc, pending));
  c.removed({{inc, completed, 3}});
  c.load({}, {});
  BOOST_TEST(c.loaded());
  BOOST_TEST(nonzero(c).empty());
}

BOOST_AUTO_TEST_CASE(the_snapshot_has_all_ten_pairs_zeros_included) {
  job_counts c;
  c.load({{full, completed, 7}}, {});
  auto s = c.snapshot();
  BOOST_TEST(s.size() == 10u);
  BOOST_TEST(nonzero(c) == (counts{{"full_sync/completed", 7}}));
}

BOOST_AUTO_TEST_CASE(a_job_moves_from_pending_to_running_to_its_end) {
  job_counts c;
  c.load({{inc, completed, 2}}, {});
  c.apply(row(10, inc, pending));
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", 2},
                                   {"incremental_sync/pending", 1}}));
  c.apply(row(10, inc, running));
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", 2},
                                   {"incremental_sync/running", 1}}));
  c.apply(row(10, inc, running));  // progress
  c.apply(row(10, inc, completed));
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", 3}}));
}

BOOST_AUTO_TEST_CASE(a_final_row_published_twice_counts_once) {
  job_counts c;
  c.load({}, {});
  c.apply(row(5, full, pending));
  c.apply(row(5, full, running));
  c.apply(row(5, full, cancelled));  // the cancel's answer
  c.apply(row(5, full, cancelled));  // the job actor's last word
  BOOST_TEST(nonzero(c) == (counts{{"full_sync/cancelled", 1}}));
}

BOOST_AUTO_TEST_CASE(late_rows_of_an_ended_job_change_nothing) {
  job_counts c;
  c.load({}, {});
  c.apply(row(5, full, pending));
  c.apply(row(5, full, running));
  c.apply(row(5, full, failed));
  c.apply(row(5, full, running, 2));  // a progress report queued behind it
  c.apply(row(5, full, pending));
  c.apply(row(5, full, completed));   // a terminal row never changes
  BOOST_TEST(nonzero(c) == (counts{{"full_sync/failed", 1}}));
}

BOOST_AUTO_TEST_CASE(running_never_goes_back_to_pending) {
  job_counts c;
  c.load({}, {});
  c.apply(row(3, inc, pending));
  c.apply(row(3, inc, running));
  c.apply(row(3, inc, pending));
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/running", 1}}));
}

BOOST_AUTO_TEST_CASE(jobs_active_at_the_load_end_through_their_rows) {
  job_counts c;
  // The database at start: one running and one pending job among the totals.
  c.load({{inc, running, 1}, {full, pending, 1}, {inc, completed, 4}},
         {row(20, inc, running), row(21, full, pending)});
  BOOST_TEST(c.running_ids() == (std::vector<std::int64_t>{20}));
  c.apply(row(20, inc, running, 2));  // taken over
  c.apply(row(20, inc, completed, 2));
  c.apply(row(21, full, cancelled));
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", 5},
                                   {"full_sync/cancelled", 1}}));
  BOOST_TEST(c.running_ids().empty());
}

BOOST_AUTO_TEST_CASE(a_non_pending_row_of_an_unknown_job_is_not_a_new_job) {
  // A job that ended before the load (counted in its totals) shows up
  // again, e.g. a worker's final word delivered after a restart.
  job_counts c;
  c.load({{inc, completed, 1}}, {});
  c.apply(row(9, inc, completed));
  c.apply(row(9, inc, running));
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", 1}}));
}

BOOST_AUTO_TEST_CASE(retention_takes_deleted_rows_off_and_never_below_zero) {
  job_counts c;
  c.load({{inc, completed, 10}, {full, failed, 2}}, {});
  c.removed({{inc, completed, 4}, {full, failed, 5}});
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", 6}}));
}

BOOST_AUTO_TEST_CASE(a_new_load_replaces_what_was_counted) {
  job_counts c;
  c.load({}, {});
  c.apply(row(1, inc, pending));
  c.load({{full, completed, 1}}, {});
  BOOST_TEST(nonzero(c) == (counts{{"full_sync/completed", 1}}));
  c.apply(row(1, inc, completed));  // unknown to the new load
  BOOST_TEST(nonzero(c) == (counts{{"full_sync/completed", 1}}));
}

BOOST_AUTO_TEST_CASE(ended_ids_are_remembered_up_to_a_bound) {
  job_counts c;
  c.load({}, {});
  auto n = static_cast<std::int64_t>(job_counts::ended_kept) + 1;
  for (std::int64_t id = 1; id <= n; ++id) {
    c.apply(row(id, inc, pending));
    c.apply(row(id, inc, completed));
  }
  c.apply(row(n, inc, pending));  // remembered: stale
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", n}}));
  c.apply(row(1, inc, pending));  // forgotten: read as a new job
  BOOST_TEST(nonzero(c) == (counts{{"incremental_sync/completed", n},
                                   {"incremental_sync/pending", 1}}));
}

BOOST_AUTO_TEST_SUITE_END()
