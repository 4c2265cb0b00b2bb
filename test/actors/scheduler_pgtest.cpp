// Automatic syncs with the real runtime (coordinator, scheduler, job actors)
// against a real PostgreSQL and the fake OpenDota: one job per due time,
// overlap skipped, one catch-up after downtime, restarts around a due time,
// and the quota share of scheduled runs.
#define BOOST_TEST_MODULE scheduler
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <random>
#include <thread>

#include <pqxx/pqxx>

#include "actors/runtime.hpp"
#include "core/schedule_rules.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"
#include "test/support/quota_day_away.hpp"
#include "upstream/quota_day.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

std::int64_t now_s() { return static_cast<std::int64_t>(std::time(nullptr)); }

struct node {
  explicit node(const std::string& db) : url(test::fresh_database(db)), conn(url) {
    cfg.database_url = url;
    cfg.upstream_url = fake.url();
    cfg.upstream_rate_per_minute = 0;
    cfg.upstream_daily_limit = 0;
    cfg.upstream_backoff_base_ms = 5;
    cfg.slots = 4;
    cfg.node_id = "node-a";
    cfg.job_lease_s = 3;
    cfg.auth = "none";
    cfg.upstream_day_start_minute = test::day_start_12h_away();
    fake.set_detail_size(300);
  }
  runtime& start() {
    rt = std::make_unique<runtime>(cfg, std::make_shared<metrics>());
    return *rt;
  }
  void stop() {
    if (rt)
      rt->shutdown(5s);
    rt.reset();
  }
  std::int64_t user(std::int64_t account, int history = 5) {
    fake.set_history_size(account, history);
    return db::user_store(conn).ensure(account).id;
  }
  // A schedule due at `due` (seconds since the epoch), set as a user would
  // have it and moved to `due` the way time moves it.
  void schedule(std::int64_t user_id, int interval, std::int64_t due) {
    pqxx::work tx(conn);
    tx.exec_params("INSERT INTO sync_schedules (user_id, enabled, interval_minutes, next_run_at) "
                   "VALUES ($1, true, $2, to_timestamp($3)) ON CONFLICT (user_id) DO UPDATE "
                   "SET enabled = true, interval_minutes = $2, next_run_at = to_timestamp($3)",
                   user_id, interval, static_cast<double>(due));
    tx.commit();
  }
  std::int64_t next_run_at(std::int64_t user_id) {
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT floor(extract(epoch FROM next_run_at))::bigint "
                           "FROM sync_schedules WHERE user_id = $1", user_id)[0]
      .as<std::int64_t>();
  }
  std::vector<sync_job> scheduled_jobs(std::int64_t user_id) {
    std::vector<sync_job> out;
    for (auto& j : db::job_store(conn).list_for_user(user_id, 100))
      if (j.triggered_by == job_trigger::schedule)
        out.push_back(j);
    return out;
  }
  sync_job wait_terminal(std::int64_t job_id) {
    sync_job last;
    BOOST_REQUIRE(test::wait_until(
      [&] {
        last = *db::job_store(conn).find(job_id);
        return is_terminal(last.status);
      },
      60s));
    return last;
  }
  // Runs `user`'s due schedule and waits until the job it made is parked
  // in a quota wait (the test has left less of the share than it needs).
  sync_job scheduled_run_parked(std::int64_t user) {
    rt->run_schedules();  // (a pass of the start may have made it already)
    BOOST_REQUIRE(test::wait_until([&] { return scheduled_jobs(user).size() == 1; }, 10s));
    auto job = scheduled_jobs(user).at(0);
    BOOST_REQUIRE(test::wait_until(
      [&] { return db::job_store(conn).find(job.id)->resume_at.has_value(); }, 30s));
    return job;
  }
  void set_quota_used(std::int64_t used) {
    auto day = upstream::quota_day_of(std::chrono::system_clock::now().time_since_epoch(),
                                      cfg.upstream_day_start_minute);
    pqxx::work tx(conn);
    tx.exec_params("INSERT INTO upstream_quota (day, used) VALUES ($1::date, $2) "
                   "ON CONFLICT (day) DO UPDATE SET used = $2",
                   upstream::quota_day_date(day), used);
    tx.commit();
  }
  test::fake_opendota fake;
  std::string url;
  pqxx::connection conn;
  config cfg;
  std::unique_ptr<runtime> rt;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_due_schedule_starts_one_incremental_marked_schedule) {
  node n("sched_due");
  auto u = n.user(501);
  auto before = now_s();
  n.schedule(u, 15, before - 1);
  auto& rt = n.start();
  BOOST_TEST(rt.run_schedules() >= 0);
  std::vector<sync_job> jobs;
  BOOST_REQUIRE(test::wait_until([&] { return !(jobs = n.scheduled_jobs(u)).empty(); }, 10s));
  auto done = n.wait_terminal(jobs[0].id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(done.type == job_type::incremental_sync);
  // Moved on to one of the user's due times, half an interval to one and a
  // half on (the test's due time is not one of the user's).
  auto next = n.next_run_at(u);
  BOOST_TEST(next >= before + 15 * 30);
  BOOST_TEST(next <= now_s() + 15 * 90);
  BOOST_TEST(next == schedule::next_due(next - 1, u, 15));
  // Nothing more is due: a pass now starts nothing.
  BOOST_TEST(rt.run_schedules() == 0);
  BOOST_TEST(n.scheduled_jobs(u).size() == 1u);
  pqxx::nontransaction tx(n.conn);
  BOOST_TEST(tx.exec_params1("SELECT last_run_job_id FROM sync_schedules WHERE user_id = $1", u)[0]
               .as<std::int64_t>() == jobs[0].id);
  n.stop();
}

BOOST_AUTO_TEST_CASE(a_schedule_due_during_a_users_own_sync_makes_no_job_and_the_next_runs) {
  node n("sched_overlap");
  auto u = n.user(502, 40);
  n.fake.set_latency(100);  // the user's full sync is still running at the due time
  auto& rt = n.start();
  auto manual = rt.trigger(u, 502, job_type::full_sync).job;
  BOOST_REQUIRE(manual);
  auto before = now_s();
  n.schedule(u, 15, before - 1);
  BOOST_TEST(rt.run_schedules() == 0);
  auto after = now_s();
  BOOST_TEST(n.scheduled_jobs(u).empty());
  // Skipped, due again at the user's due time after this one; the user's
  // sync goes on.
  auto next = n.next_run_at(u);
  BOOST_TEST(next >= schedule::next_after_run(before, u, 15));
  BOOST_TEST(next <= schedule::next_after_run(after, u, 15));
  BOOST_TEST(!is_terminal(db::job_store(n.conn).find(manual->id)->status));
  BOOST_TEST(n.wait_terminal(manual->id).status == job_status::completed);
  n.fake.set_latency(0);
  // The next due time runs.
  n.schedule(u, 15, now_s() - 1);
  rt.run_schedules();  // or the scheduler's own pass a second later
  BOOST_TEST(test::wait_until([&] { return n.scheduled_jobs(u).size() == 1; }, 10s));
  n.stop();
}

BOOST_AUTO_TEST_CASE(after_five_missed_intervals_one_catch_up_run_not_five) {
  node n("sched_catch_up");
  auto u = n.user(503);
  // Down for five intervals: the due time is 5 x 15 minutes old.
  n.schedule(u, 15, now_s() - 5 * 15 * 60 - 30);
  auto& rt = n.start();
  BOOST_REQUIRE(test::wait_until([&] { return n.scheduled_jobs(u).size() == 1; }, 10s));
  n.wait_terminal(n.scheduled_jobs(u)[0].id);
  BOOST_TEST(rt.run_schedules() == 0);
  BOOST_TEST(rt.run_schedules() == 0);
  BOOST_TEST(n.scheduled_jobs(u).size() == 1u);
  BOOST_TEST(n.next_run_at(u) > now_s());
  n.stop();
}

// Two serve processes cannot run at once, but a restart can land at any
// moment of a due pass: 20 rounds of a due time, a stop at a random moment
// after start, a restart: exactly one job per due time.
BOOST_AUTO_TEST_CASE(restarts_around_the_due_time_make_exactly_one_job_per_due_time) {
  node n("sched_restarts");
  auto u = n.user(504, 2);
  std::mt19937 rng(20261203);
  for (int round = 0; round < 20; ++round) {
    n.schedule(u, 15, now_s() - 1);
    n.start();
    // The stop lands before, during or after the first pass.
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    n.stop();
    auto& rt = n.start();
    rt.run_schedules();  // whatever the stopped process left due runs now
    auto jobs = n.scheduled_jobs(u);
    BOOST_REQUIRE_EQUAL(jobs.size(), static_cast<std::size_t>(round + 1));
    n.wait_terminal(jobs[0].id);  // newest first
    BOOST_TEST(n.next_run_at(u) > now_s());
    n.stop();
  }
}

BOOST_AUTO_TEST_CASE(scheduled_runs_use_only_their_share_of_the_day_and_users_still_sync) {
  node n("sched_quota_share");
  n.cfg.upstream_daily_limit = 100;
  n.cfg.schedule_quota_share = 50;
  auto a = n.user(505, 30);
  auto b = n.user(506, 3);
  // 50 of the day's 100 used: the scheduled share is gone.
  n.set_quota_used(50);
  n.schedule(a, 60, now_s() - 1);
  auto& rt = n.start();
  BOOST_TEST(rt.run_schedules() == 0);
  BOOST_TEST(n.scheduled_jobs(a).empty());
  // Deferred, not failed: due again at the next quota day.
  auto next_day = std::chrono::duration_cast<std::chrono::seconds>(
                    upstream::next_quota_day(std::chrono::system_clock::now().time_since_epoch(),
                                             n.cfg.upstream_day_start_minute))
                    .count();
  BOOST_TEST(n.next_run_at(a) >= next_day);
  // A user's own sync still runs on the other half.
  auto manual = rt.trigger(b, 506, job_type::incremental_sync).job;
  BOOST_REQUIRE(manual);
  BOOST_TEST(n.wait_terminal(manual->id).status == job_status::completed);

  // A scheduled run that starts with 5 of its share left stops after 5
  // requests, waiting for the next day, while the day still has room.
  n.set_quota_used(45);
  auto before = n.fake.log().size();
  n.schedule(a, 60, now_s() - 1);
  auto job = n.scheduled_run_parked(a);
  BOOST_TEST(n.fake.log().size() - before == 5u);
  auto row = *db::job_store(n.conn).find(job.id);
  BOOST_TEST(row.status == job_status::running);

  // It gives way to a sync its user starts (SPEC §3): the parked run is
  // cancelled, the user's runs on the day's other half, the schedule stays on.
  auto own = rt.trigger(a, 505, job_type::incremental_sync);
  BOOST_REQUIRE_MESSAGE(own.job, "the user's trigger was refused: " << own.message);
  BOOST_TEST(own.job->id != job.id);
  BOOST_TEST((own.job->triggered_by == job_trigger::user));
  auto gave_way = *db::job_store(n.conn).find(job.id);
  BOOST_TEST(gave_way.status == job_status::cancelled);
  BOOST_TEST(n.wait_terminal(own.job->id).status == job_status::completed);
  {
    pqxx::nontransaction tx(n.conn);
    BOOST_TEST(tx.exec_params1("SELECT enabled FROM sync_schedules WHERE user_id = $1", a)[0]
                 .as<bool>());
  }
  n.stop();
}

BOOST_AUTO_TEST_CASE(a_working_scheduled_run_keeps_its_place_and_a_users_own_sync_never_gives_way) {
  node n("sched_keeps_place");
  auto a = n.user(507, 20);
  // Slow requests (20 matches: 6 s): the scheduled run is still working when the user asks.
  n.fake.set_latency(300);
  n.schedule(a, 60, now_s() - 1);
  auto& rt = n.start();
  rt.run_schedules();  // (the start's own pass may have made it)
  BOOST_REQUIRE(test::wait_until([&] { return n.scheduled_jobs(a).size() == 1; }, 10s));
  auto job = n.scheduled_jobs(a).at(0);
  BOOST_REQUIRE(test::wait_until(
    [&] { return db::job_store(n.conn).find(job.id)->status == job_status::running; }, 10s));
  auto refused = rt.trigger(a, 507, job_type::full_sync);
  BOOST_TEST(!refused.job);
  BOOST_TEST((refused.code == errc::conflict));
  BOOST_TEST(db::job_store(n.conn).find(job.id)->cancel_requested_at.has_value() == false);
  n.fake.set_latency(0);
  BOOST_TEST(n.wait_terminal(job.id).status == job_status::completed);

  // A job the user started: a second trigger is 409, nothing is cancelled.
  auto first = rt.trigger(a, 507, job_type::incremental_sync).job;
  BOOST_REQUIRE(first);
  auto second = rt.trigger(a, 507, job_type::full_sync);
  BOOST_TEST(!second.job);
  BOOST_TEST((second.code == errc::conflict));
  BOOST_TEST(n.wait_terminal(first->id).status == job_status::completed);
  n.stop();
}

BOOST_AUTO_TEST_CASE(a_scheduled_run_parked_at_its_share_holds_no_slot_from_another_users_sync) {
  node n("sched_parked_slot");
  n.cfg.slots = 1;
  n.cfg.upstream_daily_limit = 100;
  n.cfg.schedule_quota_share = 50;
  auto a = n.user(508, 30);
  auto b = n.user(509, 3);
  n.set_quota_used(45);
  n.schedule(a, 60, now_s() - 1);
  auto& rt = n.start();
  auto parked = n.scheduled_run_parked(a);
  // The node's one slot: the parked run gives it to another user's sync.
  auto other = rt.trigger(b, 509, job_type::incremental_sync).job;
  BOOST_REQUIRE(other);
  BOOST_TEST(n.wait_terminal(other->id).status == job_status::completed);
  auto still = *db::job_store(n.conn).find(parked.id);
  BOOST_TEST(still.status == job_status::running);
  BOOST_TEST(still.resume_at.has_value());
  n.stop();
}
