#define BOOST_TEST_MODULE job_store
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include <pqxx/pqxx>

#include "core/errors.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/support/pg_fixture.hpp"

using namespace matchsync;

namespace {

struct fixture {
  fixture() : url(test::fresh_database("job_store")), conn(url), jobs(conn) {}

  std::int64_t new_user() {
    static int next = 1000;
    ++next;
    return db::user_store(conn).create(next, std::nullopt, "h" + std::to_string(next)).id;
  }

  // A job brought to `status` through the allowed path.
  sync_job job_in(job_status status) {
    auto user = new_user();
    auto j = jobs.create(user, user, job_type::incremental_sync);
    if (status == job_status::pending)
      return j;
    if (status == job_status::cancelled)
      return *jobs.cancel_pending(j.id);
    auto r = jobs.start(j.id, "node-a", 15);
    BOOST_REQUIRE(r);
    if (status == job_status::completed)
      return *jobs.complete({j.id, "node-a", r->attempt});
    if (status == job_status::failed)
      return *jobs.fail({j.id, "node-a", r->attempt}, "boom");
    return *r;
  }

  std::string url;
  pqxx::connection conn;
  db::job_store jobs;
};

using op = std::function<bool(db::job_store&, pqxx::connection&, const sync_job&)>;

bool progress(pqxx::connection& c, const db::job_fence& f) {
  pqxx::work tx(c);
  db::job_progress p;
  p.phase = "details";
  p.total_matches = 7;
  bool ok = db::job_store::update_progress(tx, f, p, 15);
  tx.commit();
  return ok;
}

db::job_fence owner(const sync_job& j) { return {j.id, "node-a", j.attempt}; }

// Every operation that changes a job, by name.
const std::vector<std::pair<std::string, op>>& operations() {
  static const std::vector<std::pair<std::string, op>> all = {
    {"start", [](auto& s, auto&, auto& j) { return bool(s.start(j.id, "node-b", 15)); }},
    {"request_cancel", [](auto& s, auto&, auto& j) { return bool(s.request_cancel(j.id)); }},
    {"cancel_pending", [](auto& s, auto&, auto& j) { return bool(s.cancel_pending(j.id)); }},
    {"finish_cancelled",
     [](auto& s, auto&, auto& j) { return bool(s.finish_cancelled(owner(j))); }},
    {"force_cancelled", [](auto& s, auto&, auto& j) { return bool(s.force_cancelled(j.id)); }},
    {"complete", [](auto& s, auto&, auto& j) { return bool(s.complete(owner(j))); }},
    {"fail", [](auto& s, auto&, auto& j) { return bool(s.fail(owner(j), "x")); }},
    {"fail_any", [](auto& s, auto&, auto& j) { return bool(s.fail_any(j.id, "x")); }},
    {"update_progress", [](auto&, auto& c, auto& j) { return progress(c, owner(j)); }},
    {"renew_lease", [](auto& s, auto&, auto& j) { return s.renew_lease(owner(j), 15); }},
  };
  return all;
}

// SPEC §3: which operation each state allows.
bool allowed(job_status s, const std::string& name) {
  if (s == job_status::pending)
    return name == "start" || name == "request_cancel" ||
           name == "cancel_pending" || name == "fail_any";
  if (s == job_status::running)
    return name != "start" && name != "cancel_pending";
  return false;  // terminal states never change
}

bool same_row(const sync_job& a, const sync_job& b) {
  return a.status == b.status && a.phase == b.phase && a.node == b.node &&
         a.attempt == b.attempt && a.total_matches == b.total_matches &&
         a.completed_at == b.completed_at &&
         a.cancel_requested_at == b.cancel_requested_at &&
         a.error_message == b.error_message;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(job_store, fixture)

BOOST_AUTO_TEST_CASE(every_state_and_operation_pair_follows_the_rules) {
  for (auto s : {job_status::pending, job_status::running, job_status::completed,
                 job_status::failed, job_status::cancelled}) {
    for (auto& [name, apply] : operations()) {
      auto j = job_in(s);
      BOOST_REQUIRE(j.status == s);
      bool done = apply(jobs, conn, j);
      BOOST_TEST_CONTEXT(to_string(s) << " + " << name) {
        BOOST_TEST(done == allowed(s, name));
        if (!done)
          BOOST_TEST(same_row(*jobs.find(j.id), j));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_stale_owner_cannot_write_a_running_job) {
  auto j = job_in(job_status::running);
  db::job_fence other_node{j.id, "node-z", j.attempt};
  db::job_fence old_attempt{j.id, "node-a", j.attempt - 1};
  for (auto& f : {other_node, old_attempt}) {
    BOOST_TEST(!progress(conn, f));
    BOOST_TEST(!jobs.complete(f));
    BOOST_TEST(!jobs.fail(f, "late"));
    BOOST_TEST(!jobs.finish_cancelled(f));
  }
  BOOST_TEST(same_row(*jobs.find(j.id), j));
  // A takeover bumps the attempt: the previous owner is fenced out.
  auto taken = jobs.take_over(j.id, "node-b", 15);
  BOOST_REQUIRE(taken);
  BOOST_TEST(taken->attempt == j.attempt + 1);
  BOOST_TEST(!progress(conn, owner(j)));
  BOOST_TEST(progress(conn, {j.id, "node-b", taken->attempt}));
}

BOOST_AUTO_TEST_CASE(a_requested_cancel_stops_progress_and_completion) {
  auto j = job_in(job_status::running);
  auto req = jobs.request_cancel(j.id);
  BOOST_REQUIRE(req);
  BOOST_TEST(req->cancel_requested_at.has_value());
  BOOST_TEST(!progress(conn, owner(j)));
  BOOST_TEST(!jobs.complete(owner(j)));
  auto done = jobs.finish_cancelled(owner(j));
  BOOST_REQUIRE(done);
  BOOST_TEST(done->status == job_status::cancelled);
  BOOST_TEST(*done->error_message == "Cancelled by user");
  BOOST_TEST(done->completed_at.has_value());
  BOOST_TEST(!done->phase.has_value());
}

BOOST_AUTO_TEST_CASE(a_cancelled_pending_job_gets_completed_at_and_message) {
  auto j = job_in(job_status::cancelled);
  BOOST_TEST(j.completed_at.has_value());
  BOOST_TEST(j.cancel_requested_at.has_value());
  BOOST_TEST(*j.error_message == "Cancelled by user");
}

BOOST_AUTO_TEST_CASE(a_pending_job_with_a_cancel_request_cannot_start) {
  auto j = job_in(job_status::pending);
  BOOST_REQUIRE(jobs.request_cancel(j.id));
  BOOST_TEST(!jobs.start(j.id, "node-a", 15));
}

BOOST_AUTO_TEST_CASE(one_active_job_per_user_holds_under_concurrent_inserts) {
  for (int round = 0; round < 20; ++round) {
    auto user = new_user();
    std::atomic<int> created{0}, conflicts{0};
    auto insert = [&] {
      pqxx::connection c(url);
      try {
        db::job_store(c).create(user, user, job_type::full_sync);
        ++created;
      } catch (const domain_error& e) {
        if (e.code() == errc::conflict)
          ++conflicts;
      }
    };
    std::thread a(insert), b(insert);
    a.join();
    b.join();
    BOOST_TEST(created.load() == 1);
    BOOST_TEST(conflicts.load() == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_terminal_job_frees_the_user_for_a_new_one) {
  auto j = job_in(job_status::running);
  BOOST_CHECK_THROW(jobs.create(j.user_id, j.account_id, job_type::full_sync),
                    domain_error);
  BOOST_REQUIRE(jobs.force_cancelled(j.id));
  auto next = jobs.create(j.user_id, j.account_id, job_type::full_sync);
  BOOST_TEST(next.status == job_status::pending);
  BOOST_TEST(jobs.active_for_user(j.user_id)->id == next.id);
}

BOOST_AUTO_TEST_CASE(expired_leases_are_taken_over_or_failed_as_worker_lost) {
  auto young = job_in(job_status::running);
  auto old = job_in(job_status::running);
  {
    pqxx::work tx(conn);
    tx.exec_params("UPDATE sync_jobs SET lease_expires_at = now() - interval '1 s' "
                   "WHERE id = $1 OR id = $2", young.id, old.id);
    tx.exec_params("UPDATE sync_jobs SET attempt = 3 WHERE id = $1", old.id);
    tx.commit();
  }
  std::vector<sync_job> failed;
  auto taken = jobs.take_over_expired("node-b", 15, 3, &failed);
  BOOST_REQUIRE(taken.size() == 1u);
  BOOST_TEST(taken[0].id == young.id);
  BOOST_TEST(*taken[0].node == "node-b");
  BOOST_TEST(taken[0].attempt == young.attempt + 1);
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(failed[0].id == old.id);
  BOOST_TEST(*failed[0].error_message == "worker lost");
  BOOST_TEST(failed[0].status == job_status::failed);
  // A live lease is left alone.
  BOOST_TEST(jobs.take_over_expired("node-c", 15, 3).empty());
}

// Seconds until the job's lease runs out (negative when it has).
double lease_left(pqxx::connection& c, std::int64_t id) {
  pqxx::work tx(c);
  auto r = tx.exec_params1(
    "SELECT extract(epoch FROM lease_expires_at - now()) FROM sync_jobs WHERE id = $1", id);
  tx.commit();
  return r[0].as<double>();
}

void expire(pqxx::connection& c, std::int64_t id) {
  pqxx::work tx(c);
  tx.exec_params("UPDATE sync_jobs SET lease_expires_at = now() - interval '1 s' WHERE id = $1",
                 id);
  tx.commit();
}

BOOST_AUTO_TEST_CASE(leases_are_renewed_for_the_runs_an_agent_runs_not_for_its_node_name) {
  auto mine = job_in(job_status::running);
  // A predecessor under the same node name left this one running.
  auto orphan = job_in(job_status::running);
  expire(conn, mine.id);
  expire(conn, orphan.id);
  auto superseded = jobs.renew_leases("node-a", {{mine.id, mine.attempt}}, 15);
  BOOST_TEST(superseded.empty());
  BOOST_TEST(lease_left(conn, mine.id) > 10);
  BOOST_TEST(lease_left(conn, orphan.id) < 0);
  // A restarted node runs nothing yet: it renews nothing.
  BOOST_TEST(jobs.renew_leases("node-a", {}, 15).empty());
  BOOST_TEST(lease_left(conn, orphan.id) < 0);
  // The orphan is taken over on the same node: the old run is named
  // superseded and its lease is not renewed by it.
  auto taken = jobs.take_over_expired("node-a", 15, 3);
  BOOST_REQUIRE(taken.size() == 1u);
  BOOST_TEST(taken[0].id == orphan.id);
  expire(conn, orphan.id);
  superseded = jobs.renew_leases("node-a", {{orphan.id, orphan.attempt}, {mine.id, mine.attempt}}, 15);
  BOOST_REQUIRE(superseded.size() == 1u);
  BOOST_TEST(superseded[0].job_id == orphan.id);
  BOOST_TEST(superseded[0].attempt == orphan.attempt);
  BOOST_TEST(lease_left(conn, orphan.id) < 0);
  // An ended run is neither renewed nor superseded.
  auto done = job_in(job_status::completed);
  BOOST_TEST(jobs.renew_leases("node-a", {{done.id, done.attempt}}, 15).empty());
}

BOOST_AUTO_TEST_CASE(a_persisted_cancel_wins_over_a_later_failure_or_expiry) {
  auto failing = job_in(job_status::running);
  BOOST_REQUIRE(jobs.request_cancel(failing.id));
  auto row = jobs.fail(owner(failing), "upstream failed");
  BOOST_REQUIRE(row);
  BOOST_TEST(row->status == job_status::cancelled);
  BOOST_TEST(*row->error_message == "Cancelled by user");

  auto by_coordinator = job_in(job_status::running);
  BOOST_REQUIRE(jobs.request_cancel(by_coordinator.id));
  BOOST_TEST(jobs.fail_any(by_coordinator.id, "x")->status == job_status::cancelled);

  // An expired lease: the job is not resumed but ends cancelled, even with
  // attempts left.
  auto lost = job_in(job_status::running);
  BOOST_REQUIRE(jobs.request_cancel(lost.id));
  expire(conn, lost.id);
  std::vector<sync_job> ended;
  BOOST_TEST(jobs.take_over_expired("node-b", 15, 3, &ended).empty());
  BOOST_REQUIRE(ended.size() == 1u);
  BOOST_TEST(ended[0].status == job_status::cancelled);
  BOOST_TEST(*ended[0].error_message == "Cancelled by user");
  BOOST_TEST(!jobs.take_over(lost.id, "node-b", 15));

  // A completion that came first stays.
  auto completed = job_in(job_status::completed);
  BOOST_TEST(!jobs.request_cancel(completed.id));
  BOOST_TEST(jobs.find(completed.id)->status == job_status::completed);
}

BOOST_AUTO_TEST_CASE(planned_handovers_do_not_count_against_max_attempts) {
  auto j = job_in(job_status::running);
  sync_job run = j;
  // Three graceful stops, each resumed by the next node: never "worker lost".
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(jobs.hand_over(owner(run)));
    BOOST_TEST(!jobs.hand_over(owner(run)));  // counted once
    BOOST_TEST(lease_left(conn, j.id) <= 0);
    std::vector<sync_job> failed;
    auto taken = jobs.take_over_expired("node-a", 15, 1, &failed);
    BOOST_TEST(failed.empty());
    BOOST_REQUIRE(taken.size() == 1u);
    run = taken[0];
  }
  BOOST_TEST(run.attempt == j.attempt + 3);
  // A lost owner counts: with max_attempts 1 it fails now.
  expire(conn, j.id);
  std::vector<sync_job> failed;
  BOOST_TEST(jobs.take_over_expired("node-a", 15, 1, &failed).empty());
  BOOST_REQUIRE(failed.size() == 1u);
  BOOST_TEST(*failed[0].error_message == "worker lost");
}

BOOST_AUTO_TEST_CASE(the_leases_of_a_dropped_node_end_at_once_for_its_runs_only) {
  auto a = job_in(job_status::running);
  auto b = job_in(job_status::running);
  BOOST_TEST(jobs.expire_leases("node-a", {{a.id, a.attempt}, {b.id, b.attempt + 1}}) == 1);
  BOOST_TEST(lease_left(conn, a.id) <= 0);
  BOOST_TEST(lease_left(conn, b.id) > 10);
  std::vector<sync_job> failed;
  auto taken = jobs.take_over_expired("node-b", 15, 3, &failed);
  BOOST_REQUIRE(taken.size() == 1u);
  BOOST_TEST(taken[0].id == a.id);
}

BOOST_AUTO_TEST_SUITE_END()
