// The actor core in one process: the real runtime (coordinator, job actors,
// pools) against a real PostgreSQL and the fake OpenDota over loopback.
#define BOOST_TEST_MODULE coordinator
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <future>
#include <random>
#include <thread>

#include <pqxx/pqxx>

#include "actors/runtime.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

struct node {
  explicit node(const std::string& db, std::function<void(config&)> tweak = {})
    : url(test::fresh_database(db)), conn(url) {
    cfg.database_url = url;
    cfg.upstream_url = fake.url();
    cfg.upstream_rate_per_minute = 0;
    cfg.upstream_backoff_base_ms = 5;
    cfg.upstream_timeout_ms = 20000;
    cfg.slots = 4;
    cfg.node_id = "node-a";
    cfg.job_lease_s = 3;
    cfg.auth = "none";
    if (tweak)
      tweak(cfg);
    fake.set_detail_size(500);
  }

  runtime& start() {
    rt = std::make_unique<runtime>(cfg, stats);
    return *rt;
  }

  std::int64_t user(std::int64_t account) {
    return db::user_store(conn).ensure(account).id;
  }

  sync_job row(std::int64_t job_id) { return *db::job_store(conn).find(job_id); }

  sync_job wait_terminal(std::int64_t job_id, std::chrono::milliseconds deadline = 60s) {
    sync_job last;
    BOOST_REQUIRE(test::wait_until(
      [&] {
        last = row(job_id);
        return is_terminal(last.status);
      },
      deadline));
    return last;
  }

  std::size_t stored(std::int64_t account) {
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT count(*) FROM matches WHERE account_id = $1 "
                           "AND details_state = 'fetched'", account)[0].as<std::size_t>();
  }

  test::fake_opendota fake;
  std::string url;
  pqxx::connection conn;
  config cfg;
  std::shared_ptr<metrics> stats = std::make_shared<metrics>();
  std::unique_ptr<runtime> rt;
};

bool same_row(const sync_job& a, const sync_job& b) {
  return a.status == b.status && a.phase == b.phase && a.completed_at == b.completed_at &&
         a.error_message == b.error_message && a.processed_matches == b.processed_matches &&
         a.new_matches == b.new_matches && a.total_matches == b.total_matches &&
         a.attempt == b.attempt && a.node == b.node;
}

// Requests the fake received for `account`'s list or its matches' details.
std::size_t requests_for(test::fake_opendota& fake, std::int64_t account, std::size_t since) {
  std::size_t n = 0;
  auto prefix = "/api/matches/" + std::to_string(account);
  auto list = "/api/players/" + std::to_string(account) + "/";
  for (auto& r : fake.log(since))
    if (r.path.rfind(list, 0) == 0 ||
        (r.path.rfind(prefix, 0) == 0 && r.path.size() == prefix.size() + 6))
      ++n;
  return n;
}

// What this process writes to stderr (the log) while it lives: how a test
// sees a path that leaves no other trace (a forced cancel, a restart).
class stderr_capture {
public:
  stderr_capture() : file_(std::tmpfile()), saved_(::dup(2)) {
    BOOST_REQUIRE(file_ && saved_ >= 0);
    std::fflush(stderr);
    ::dup2(::fileno(file_), 2);
  }
  ~stderr_capture() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
    std::fclose(file_);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  /// Log lines holding both `message` and `job=<id>`.
  std::size_t lines(const std::string& message, std::int64_t job_id) {
    std::fflush(stderr);
    std::ifstream in("/proc/self/fd/" + std::to_string(::fileno(file_)));
    // Text format: "... message job=ID key=value..." (job=6 is not job=60).
    std::string line, job = " job=" + std::to_string(job_id);
    std::size_t n = 0;
    while (std::getline(in, line)) {
      auto at = line.find(job);
      auto end = at + job.size();
      if (line.find(message) != std::string::npos && at != std::string::npos &&
          (end == line.size() || line[end] == ' '))
        ++n;
    }
    return n;
  }

private:
  std::FILE* file_;
  int saved_;
};

// The fake's list requests for `account`, by offset: how often each page was asked for,
// and when (fake's clock, ms) it was first asked for.
struct page_requests {
  std::map<int, int> count;
  std::map<int, double> first_at;
};
page_requests list_pages(test::fake_opendota& fake, std::int64_t account) {
  page_requests p;
  auto list = "/api/players/" + std::to_string(account) + "/matches";
  for (auto& r : fake.log())
    if (r.path == list) {
      // A whole-history listing has no offset: it counts as offset -1.
      auto o = r.params.find("offset");
      int offset = o == r.params.end() ? -1 : std::stoi(o->second);
      if (p.count[offset]++ == 0)
        p.first_at[offset] = r.t_ms;
    }
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(coordinator)

BOOST_AUTO_TEST_CASE(a_triggered_job_runs_to_completion_with_complete_data) {
  node n("coord_complete");
  auto& rt = n.start();
  auto r = rt.trigger(n.user(30), 30, job_type::incremental_sync);
  BOOST_REQUIRE(r.job);
  BOOST_TEST((r.job->status == job_status::pending || r.job->status == job_status::running));
  auto done = n.wait_terminal(r.job->id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(done.new_matches == 30);
  BOOST_TEST(*done.node == "node-a");
  BOOST_TEST(!done.phase.has_value());
  BOOST_TEST(n.stored(30) == 30u);
}

BOOST_AUTO_TEST_CASE(a_second_trigger_while_one_is_active_is_a_conflict) {
  node n("coord_conflict", [](config& c) { c.slots = 0; });
  auto& rt = n.start();
  auto user = n.user(31);
  auto first = rt.trigger(user, 31, job_type::full_sync);
  BOOST_REQUIRE(first.job);
  auto second = rt.trigger(user, 31, job_type::incremental_sync);
  BOOST_TEST(!second.job.has_value());
  BOOST_TEST(second.code == errc::conflict);
}

BOOST_AUTO_TEST_CASE(a_pending_job_is_cancelled_at_once_and_a_new_one_can_start) {
  node n("coord_cancel_pending", [](config& c) { c.slots = 0; });
  auto& rt = n.start();
  auto user = n.user(32);
  auto job = rt.trigger(user, 32, job_type::incremental_sync).job;
  BOOST_REQUIRE(job);
  auto c = rt.cancel(user, job->id);
  BOOST_REQUIRE(c.job);
  BOOST_TEST(c.job->status == job_status::cancelled);
  BOOST_TEST(c.job->completed_at.has_value());
  BOOST_TEST(c.job->cancel_requested_at.has_value());
  BOOST_TEST(*c.job->error_message == "Cancelled by user");
  auto again = rt.cancel(user, job->id);
  BOOST_TEST(again.code == errc::illegal_transition);
  BOOST_TEST(again.message == "Cannot cancel job with status: cancelled");
  BOOST_TEST(rt.trigger(user, 32, job_type::incremental_sync).job.has_value());
}

// A node that runs nothing (no slots): the owner's job stays pending, and a
// stranger (the next account's user) may try to cancel it.
struct owner_and_stranger {
  owner_and_stranger(const std::string& db, std::int64_t account)
    : n(db, [](config& c) { c.slots = 0; }), rt(n.start()), owner(n.user(account)),
      stranger(n.user(account + 1)) {
    auto triggered = rt.trigger(owner, account, job_type::incremental_sync).job;
    BOOST_REQUIRE(triggered);
    job = *triggered;
  }
  node n;
  runtime& rt;
  std::int64_t owner, stranger;
  sync_job job;
};

BOOST_AUTO_TEST_CASE(cancel_of_unknown_or_foreign_jobs_is_not_found) {
  owner_and_stranger t("coord_not_found", 33);
  auto foreign = t.rt.cancel(t.stranger, t.job.id);
  BOOST_TEST(foreign.code == errc::job_not_found);
  BOOST_TEST(foreign.message == "Sync job not found");
  BOOST_TEST(t.rt.cancel(t.owner, 999999).code == errc::job_not_found);
  BOOST_TEST(t.n.row(t.job.id).status == job_status::pending);
}

// While the owner's cancel is in flight (here: held up by a lock on the
// job's row), a stranger's cancel of the same id is refused at once; it
// never joins the owner's and gets their row.
BOOST_AUTO_TEST_CASE(a_strangers_cancel_never_shares_the_owners_cancel_in_flight) {
  owner_and_stranger t("coord_cancel_stranger", 37);
  pqxx::connection holder(t.n.url);
  pqxx::work hold(holder);
  hold.exec_params("SELECT 1 FROM sync_jobs WHERE id = $1 FOR UPDATE", t.job.id);
  auto owners = std::async(std::launch::async, [&] { return t.rt.cancel(t.owner, t.job.id); });
  pqxx::connection watcher(t.n.url);
  BOOST_REQUIRE_MESSAGE(test::wait_until(
                          [&] {
                            return pqxx::nontransaction(watcher)
                                     .exec1("SELECT count(*) FROM pg_stat_activity "
                                            "WHERE wait_event_type = 'Lock' "
                                            "AND datname = current_database()")[0]
                                     .as<int>() > 0;
                          },
                          10s),
                        "the owner's cancel never waited for the row");
  auto strangers =
    std::async(std::launch::async, [&] { return t.rt.cancel(t.stranger, t.job.id); });
  bool answered = strangers.wait_for(5s) == std::future_status::ready;
  BOOST_TEST(answered, "the stranger's cancel waited for the owner's");
  hold.commit();
  auto s = strangers.get();
  BOOST_TEST(!s.job.has_value());
  BOOST_TEST(s.code == errc::job_not_found);
  auto o = owners.get();
  BOOST_REQUIRE(o.job);
  BOOST_TEST(o.job->status == job_status::cancelled);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_completed_job_is_refused_with_its_status) {
  node n("coord_cancel_done");
  auto& rt = n.start();
  auto user = n.user(5);
  auto job = rt.trigger(user, 5, job_type::incremental_sync).job;
  BOOST_REQUIRE(job);
  BOOST_TEST(n.wait_terminal(job->id).status == job_status::completed);
  auto c = rt.cancel(user, job->id);
  BOOST_TEST(c.code == errc::illegal_transition);
  BOOST_TEST(c.message == "Cannot cancel job with status: completed");
}

BOOST_AUTO_TEST_CASE(cancel_of_a_running_job_with_a_slow_upstream_is_fast_and_final) {
  node n("coord_cancel_running");
  auto& rt = n.start();
  n.fake.set_latency(5000);
  auto user = n.user(50);
  auto job = rt.trigger(user, 50, job_type::full_sync).job;
  BOOST_REQUIRE(job);
  BOOST_REQUIRE(n.fake.wait_for_requests("/api/players/50/matches", 1, 10s));
  auto t0 = std::chrono::steady_clock::now();
  auto c = rt.cancel(user, job->id);
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST_MESSAGE("cancel answered in "
                     << std::chrono::duration_cast<std::chrono::microseconds>(took).count()
                     << " us");
  auto after_answer = n.fake.log().size();
  BOOST_REQUIRE(c.job);
  BOOST_TEST(c.job->status == job_status::cancelled);
  BOOST_TEST(*c.job->error_message == "Cancelled by user");
  BOOST_TEST(c.job->completed_at.has_value());
  // Acknowledged by the job actor, well within the forcing deadline.
  BOOST_TEST((took < std::chrono::milliseconds(n.cfg.cancel_timeout_ms)));
  // A new sync may start at once, for another user and for this one. The
  // new job of account 50 asks the fake too: only the requests before it
  // and after its cancel are known to be the cancelled job's.
  auto next = rt.trigger(n.user(51), 51, job_type::incremental_sync);
  BOOST_TEST(next.job.has_value());
  auto before_again = n.fake.log().size();
  auto again = rt.trigger(user, 50, job_type::incremental_sync);
  BOOST_REQUIRE(again.job);
  // The new job's first request reaches the fake before its cancel: it then
  // waits 5 s for the answer, so a request logged after the cancel's answer
  // was made after it. Cancelled before that, a request the job sent before
  // the answer could be logged after it (the fake's thread reads it later,
  // under load), which is no late request (seen once, in a clean-clone run
  // beside the ASan build).
  BOOST_REQUIRE(test::wait_until(
    [&] { return requests_for(n.fake, 50, before_again) >= 1; }, 10s));
  auto again_cancel = rt.cancel(user, again.job->id);
  BOOST_REQUIRE(again_cancel.job);
  BOOST_TEST(again_cancel.job->status == job_status::cancelled);
  auto after_again = n.fake.log().size();
  // After the answer, no request (list page of any offset, or details) for
  // the cancelled job and no change to it.
  std::this_thread::sleep_for(3s);  // the contract's observation window
  BOOST_TEST(same_row(n.row(job->id), *c.job));
  BOOST_TEST(requests_for(n.fake, 50, after_again) == 0u);
  BOOST_TEST(requests_for(n.fake, 50, after_answer) - requests_for(n.fake, 50, before_again) == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancel_the_job_actor_does_not_acknowledge_in_time_is_forced) {
  node n("coord_cancel_forced", [](config& c) { c.cancel_timeout_ms = 1; });
  stderr_capture log;
  auto& rt = n.start();
  // The actor's own final write (running -> cancelled) takes 200 ms, so its
  // acknowledgement cannot beat the 1 ms bound: on a quiet machine it did,
  // half the time, and nothing was forced. The cancel's first write (only
  // cancel_requested_at) is not slowed.
  {
    pqxx::work tx(n.conn);
    tx.exec("CREATE FUNCTION slow_final_write() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$");
    tx.exec("CREATE TRIGGER slow_final_write BEFORE UPDATE ON sync_jobs FOR EACH ROW "
            "WHEN (OLD.status = 'running' AND NEW.status = 'cancelled') "
            "EXECUTE FUNCTION slow_final_write()");
    tx.commit();
  }
  n.fake.set_latency(5000);
  auto user = n.user(52);
  auto job = rt.trigger(user, 52, job_type::full_sync).job;
  BOOST_REQUIRE(job);
  BOOST_REQUIRE(n.fake.wait_for_requests("/api/players/52/matches", 1, 10s));
  auto c = rt.cancel(user, job->id);
  BOOST_REQUIRE(c.job);
  BOOST_TEST(c.job->status == job_status::cancelled);
  BOOST_TEST(*c.job->error_message == "Cancelled by user");
  auto after = n.fake.log().size();
  BOOST_REQUIRE(test::wait_until([&] { return rt.running_jobs().empty(); }, 10s));
  BOOST_TEST(same_row(n.row(job->id), *c.job));
  BOOST_TEST(requests_for(n.fake, 52, after) == 0u);
  // The force itself, not an acknowledgement that came within 1 ms.
  BOOST_TEST(log.lines("cancel forced", job->id) == 1u);
}

BOOST_AUTO_TEST_CASE(cancel_and_completion_races_end_in_exactly_one_terminal_state) {
  node n("coord_races", [](config& c) { c.slots = 16; });
  auto& rt = n.start();
  n.fake.set_latency(0, 3, 99);
  std::mt19937 rng(4242);
  struct race {
    std::int64_t job_id;
    job_result answer;
  };
  std::vector<race> races;
  for (int i = 0; i < 200; ++i) {
    std::int64_t account = 7000 + i;
    n.fake.set_history_size(account, 3);
    auto user = n.user(account);
    auto job = rt.trigger(user, account, job_type::incremental_sync).job;
    BOOST_REQUIRE(job);
    // Land the cancel anywhere from before the start to after the end; every
    // tenth surely after the end, so that the completed side is checked on
    // any machine (a slow one, TSan, could cancel all the others in time).
    if (i % 10 == 9)
      n.wait_terminal(job->id);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(
        std::uniform_int_distribution<int>(0, 40)(rng)));
    races.push_back({job->id, rt.cancel(user, job->id)});
  }
  BOOST_REQUIRE(test::wait_until([&] { return rt.running_jobs().empty(); }, 60s));
  int cancelled = 0, completed = 0;
  for (auto& r : races) {
    auto final_row = n.row(r.job_id);
    BOOST_TEST_CONTEXT("job " << r.job_id) {
      BOOST_TEST(is_terminal(final_row.status));
      if (r.answer.job) {
        ++cancelled;
        BOOST_TEST(final_row.status == job_status::cancelled);
        BOOST_TEST(same_row(final_row, *r.answer.job));
      } else {
        ++completed;
        BOOST_TEST(r.answer.code == errc::illegal_transition);
        BOOST_TEST(final_row.status == job_status::completed);
        BOOST_TEST(r.answer.message == "Cannot cancel job with status: completed");
      }
    }
  }
  BOOST_TEST_MESSAGE("races: " << cancelled << " cancelled, " << completed << " completed");
  BOOST_TEST(cancelled > 0);
  BOOST_TEST(completed >= 20);
}

BOOST_AUTO_TEST_CASE(a_job_actor_that_throws_once_is_restarted_and_completes) {
  node n("coord_crash_once", [](config& c) {
    c.fault_throw_at_step = 3;
    c.upstream_page_size = 10;
  });
  stderr_capture log;
  auto& rt = n.start();
  // An incremental of a history never synced lists it page by page (a full
  // sync asks for the whole history in one request, SPEC §2), so the page a
  // restart resumes from shows in the fake's log.
  auto job = rt.trigger(n.user(60), 60, job_type::incremental_sync).job;
  BOOST_REQUIRE(job);
  auto done = n.wait_terminal(job->id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(n.stored(60) == 60u);
  // It did crash, once, and was restarted (SPEC §4 Supervision)...
  BOOST_TEST(log.lines("job crashed, restarting", job->id) == 1u);
  // ...from its last committed page: steps 1-3 listed offsets 0, 10, 20,
  // the crash came after the third commit, and no page was listed twice.
  auto pages = list_pages(n.fake, 60);
  for (int offset = 0; offset <= 60; offset += 10)
    BOOST_TEST(pages.count[offset] == 1, "offset " << offset);
  // ...with backoff: the first restart waits 200 ms (100 ms << 1) before it
  // lists the next page.
  BOOST_TEST(pages.first_at[30] - pages.first_at[20] >= 200.0);
}

BOOST_AUTO_TEST_CASE(a_job_actor_that_always_throws_fails_after_bounded_restarts) {
  node n("coord_crash_always", [](config& c) {
    c.fault_throw_at_step = 2;
    c.fault_throw_always = true;
    c.upstream_page_size = 10;
  });
  stderr_capture log;
  auto& rt = n.start();
  auto job = rt.trigger(n.user(61), 61, job_type::full_sync).job;
  BOOST_REQUIRE(job);
  auto done = n.wait_terminal(job->id);
  BOOST_TEST(done.status == job_status::failed);
  BOOST_TEST(done.error_message->find("fault injected at step 2") != std::string::npos);
  // Bounded: restarted job_max_restarts (3) times, then given up once.
  BOOST_TEST(log.lines("job crashed, restarting", job->id) == 3u);
  BOOST_TEST(log.lines("job crashed too often", job->id) == 1u);
}

BOOST_AUTO_TEST_CASE(pending_jobs_found_at_start_are_dispatched) {
  node n("coord_pending_at_start");
  auto user = n.user(40);
  auto job = db::job_store(n.conn).create(user, 40, job_type::incremental_sync);
  n.start();
  auto done = n.wait_terminal(job.id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(done.new_matches == 40);
}

BOOST_AUTO_TEST_CASE(a_job_whose_owner_went_silent_is_resumed_after_its_lease) {
  node n("coord_orphan");
  auto user = n.user(41);
  db::job_store jobs(n.conn);
  auto job = jobs.create(user, 41, job_type::incremental_sync);
  BOOST_REQUIRE(jobs.start(job.id, "dead-node", 1));
  n.start();
  auto done = n.wait_terminal(job.id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(*done.node == "node-a");
  BOOST_TEST(done.attempt == 2);
  BOOST_TEST(n.stored(41) == 41u);
}

BOOST_AUTO_TEST_CASE(a_job_that_lost_its_owner_too_often_fails_as_worker_lost) {
  node n("coord_worker_lost", [](config& c) { c.job_max_attempts = 1; });
  auto user = n.user(42);
  db::job_store jobs(n.conn);
  auto job = jobs.create(user, 42, job_type::incremental_sync);
  BOOST_REQUIRE(jobs.start(job.id, "dead-node", 1));
  n.start();
  auto done = n.wait_terminal(job.id);
  BOOST_TEST(done.status == job_status::failed);
  BOOST_TEST(*done.error_message == "worker lost");
}

// SPEC §4 No orphans: once a cancel is persisted the job ends cancelled
// unless it had already completed, also when its owner is lost before it
// acts on it. Whether attempts are left or not, the coordinator's pass over
// expired leases ends it cancelled (take-over skips a job with a persisted
// cancel, and the expiry SQL checks cancel_requested_at before "worker
// lost").
void a_persisted_cancel_outlives_its_owner(const std::string& db, std::int64_t account,
                                           int max_attempts) {
  node n(db, [=](config& c) { c.job_max_attempts = max_attempts; });
  auto user = n.user(account);
  db::job_store jobs(n.conn);
  auto job = jobs.create(user, account, job_type::incremental_sync);
  BOOST_REQUIRE(jobs.start(job.id, "dead-node", 1));
  BOOST_REQUIRE(jobs.request_cancel(job.id));
  n.start();
  auto done = n.wait_terminal(job.id);
  BOOST_TEST(done.status == job_status::cancelled);
  BOOST_TEST(done.error_message.value_or("") == "Cancelled by user");
  BOOST_TEST(done.completed_at.has_value());
}

BOOST_AUTO_TEST_CASE(a_persisted_cancel_whose_owner_is_lost_ends_cancelled_with_attempts_left) {
  a_persisted_cancel_outlives_its_owner("coord_cancel_owner_lost", 43, 100);
}

BOOST_AUTO_TEST_CASE(a_persisted_cancel_whose_owner_is_lost_ends_cancelled_with_no_attempt_left) {
  // The same job with one attempt, the one the lost owner used: without the
  // cancel it would fail "worker lost" (the case above this helper's).
  a_persisted_cancel_outlives_its_owner("coord_cancel_owner_lost_last", 44, 1);
}

BOOST_AUTO_TEST_SUITE_END()
