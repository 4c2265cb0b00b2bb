// The parts behind a fast /sync/status, alone: the rule that folds job
// changes into a user's active job, the board that serves it from memory,
// and the HTTP pool that grows with open connections.
#define BOOST_TEST_MODULE active_jobs
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <stdexcept>

#include "actors/event_bus.hpp"
#include "http/elastic_pool.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

sync_job job(std::int64_t id, job_status status, std::int64_t processed = 0, int attempt = 1) {
  sync_job j;
  j.id = id;
  j.user_id = 7;
  j.status = status;
  j.processed_matches = processed;
  j.attempt = attempt;
  return j;
}

std::int64_t active_id(const active_view& v) { return v.job ? v.job->id : 0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(apply_change_rule)

BOOST_AUTO_TEST_CASE(a_new_job_becomes_active_and_progress_replaces_it) {
  active_view v;
  apply_change(v, job(5, job_status::pending));
  BOOST_TEST(v.known);
  BOOST_TEST(active_id(v) == 5);
  apply_change(v, job(5, job_status::running, 10));
  apply_change(v, job(5, job_status::running, 20));
  BOOST_TEST(v.job->processed_matches == 20);
}

BOOST_AUTO_TEST_CASE(an_ended_job_stays_ended_whatever_comes_late) {
  active_view v;
  apply_change(v, job(5, job_status::running, 10));
  apply_change(v, job(5, job_status::cancelled));
  BOOST_TEST(v.known);
  BOOST_TEST(!v.job);
  apply_change(v, job(5, job_status::running, 11));  // progress queued behind the cancel
  apply_change(v, job(4, job_status::running));      // an older job's
  BOOST_TEST(!v.job);
}

BOOST_AUTO_TEST_CASE(a_job_goes_back_neither_to_pending_nor_to_an_earlier_attempt) {
  active_view v;
  apply_change(v, job(5, job_status::running, 10, 2));
  apply_change(v, job(5, job_status::pending));
  apply_change(v, job(5, job_status::running, 99, 1));  // a zombie attempt
  BOOST_TEST(v.job->status == job_status::running);
  BOOST_TEST(v.job->processed_matches == 10);
  apply_change(v, job(5, job_status::running, 0, 3));  // resumed elsewhere
  BOOST_TEST(v.job->attempt == 3);
}

BOOST_AUTO_TEST_CASE(an_older_job_never_replaces_a_newer_one) {
  active_view v;
  apply_change(v, job(6, job_status::pending));
  apply_change(v, job(5, job_status::completed));  // its end, reported late
  BOOST_TEST(active_id(v) == 6);
}

BOOST_AUTO_TEST_CASE(an_end_heard_first_does_not_tell_which_job_is_active) {
  active_view v;
  apply_change(v, job(5, job_status::completed));
  BOOST_TEST(!v.known);
  BOOST_TEST(v.ended_up_to == 5);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(board)

using clock_t_ = active_jobs::clock;

BOOST_AUTO_TEST_CASE(a_user_is_read_from_the_database_once_then_from_memory) {
  active_jobs board(1000ms);
  int loads = 0;
  auto load = [&]() -> std::optional<sync_job> {
    ++loads;
    return job(3, job_status::running);
  };
  auto t0 = clock_t_::now();
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(board.get(7, load, t0 + 1ms * i)->id == 3);
  BOOST_TEST(loads == 1);
  board.apply(job(3, job_status::completed));
  BOOST_TEST(!board.get(7, load, t0 + 200ms));
  BOOST_TEST(loads == 1);
}

BOOST_AUTO_TEST_CASE(changes_keep_the_board_current_without_reads) {
  active_jobs board(1000ms);
  int loads = 0;
  auto load = [&]() -> std::optional<sync_job> {
    ++loads;
    return std::nullopt;
  };
  auto t0 = clock_t_::now();
  BOOST_TEST(!board.get(7, load, t0));
  board.apply(job(8, job_status::pending));
  BOOST_TEST(board.get(7, load, t0 + 1ms)->id == 8);
  board.apply(job(8, job_status::running, 4));
  BOOST_TEST(board.get(7, load, t0 + 2ms)->processed_matches == 4);
  BOOST_TEST(loads == 1);
}

BOOST_AUTO_TEST_CASE(an_entry_older_than_max_age_is_confirmed_from_the_database) {
  active_jobs board(1000ms);
  std::optional<sync_job> stored = job(3, job_status::running);
  int loads = 0;
  auto load = [&] {
    ++loads;
    return stored;
  };
  auto t0 = clock_t_::now();
  BOOST_TEST(board.get(7, load, t0)->id == 3);
  stored.reset();  // it ended, and the change was lost (its node died)
  BOOST_TEST(board.get(7, load, t0 + 999ms)->id == 3);
  BOOST_TEST(!board.get(7, load, t0 + 1000ms));
  BOOST_TEST(loads == 2);
}

BOOST_AUTO_TEST_CASE(a_change_during_a_read_wins_over_the_read) {
  active_jobs board(1000ms);
  auto t0 = clock_t_::now();
  auto stale_read = [&]() -> std::optional<sync_job> {
    board.apply(job(9, job_status::cancelled));  // lands while the read is in flight
    return job(9, job_status::running);
  };
  board.apply(job(9, job_status::running));
  BOOST_TEST(!board.get(7, stale_read, t0));
  auto fresh = [&]() -> std::optional<sync_job> { return std::nullopt; };
  BOOST_TEST(!board.get(7, fresh, t0 + 1ms));
}

BOOST_AUTO_TEST_CASE(a_failed_read_is_answered_from_memory_when_the_board_knows) {
  active_jobs board(1000ms);
  auto t0 = clock_t_::now();
  auto failing = []() -> std::optional<sync_job> { throw std::runtime_error("database away"); };
  BOOST_CHECK_THROW(board.get(7, failing, t0), std::runtime_error);
  board.apply(job(2, job_status::running));
  BOOST_TEST(board.get(7, failing, t0 + 5000ms)->id == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(elastic_pool_threads)

using matchsync::http::elastic_pool;

// Tasks that hold their thread until released, as a keep-alive connection does.
struct blockers {
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  std::function<void()> task() {
    return [this] {
      ++started;
      matchsync::test::wait_until([this] { return release.load(); }, 10s);
    };
  }
};

BOOST_AUTO_TEST_CASE(the_pool_grows_past_its_minimum_while_every_thread_is_taken) {
  elastic_pool pool(2, 16, 10000ms);
  blockers b;
  for (int i = 0; i < 10; ++i)
    pool.submit(b.task());
  BOOST_TEST(matchsync::test::wait_until([&] { return b.started == 10; }, 10s));
  BOOST_TEST(pool.snapshot().threads >= 10u);
  b.release = true;
}

BOOST_AUTO_TEST_CASE(at_its_maximum_tasks_wait_for_a_thread) {
  elastic_pool pool(1, 4, 10000ms);
  blockers b;
  for (int i = 0; i < 6; ++i)
    pool.submit(b.task());
  BOOST_TEST(matchsync::test::wait_until([&] { return b.started == 4; }, 10s));
  BOOST_TEST(pool.snapshot().queued == 2u);
  BOOST_TEST(pool.snapshot().threads == 4u);
  b.release = true;
  BOOST_TEST(matchsync::test::wait_until([&] { return b.started == 6; }, 10s));
}

BOOST_AUTO_TEST_CASE(threads_beyond_the_minimum_end_when_idle) {
  elastic_pool pool(2, 16, 20ms);
  blockers b;
  for (int i = 0; i < 8; ++i)
    pool.submit(b.task());
  BOOST_TEST(matchsync::test::wait_until([&] { return b.started == 8; }, 10s));
  b.release = true;
  BOOST_TEST(matchsync::test::wait_until([&] { return pool.snapshot().threads == 2u; }, 10s));
  BOOST_TEST(pool.snapshot().peak >= 8u);
}

BOOST_AUTO_TEST_CASE(shutdown_runs_the_queued_tasks_and_ends_every_thread) {
  std::atomic<int> ran{0};
  elastic_pool pool(1, 2, 10000ms);
  for (int i = 0; i < 20; ++i)
    pool.submit([&] { ++ran; });
  pool.shutdown();
  BOOST_TEST(ran == 20);
  BOOST_TEST(pool.snapshot().threads == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
