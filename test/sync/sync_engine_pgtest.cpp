// The sync engine against a real PostgreSQL and the fake OpenDota over
// loopback: completeness, incremental cost, no gaps after interruptions,
// updates, and the upstream's failure modes.
#define BOOST_TEST_MODULE sync_engine
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <climits>
#include <ctime>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <set>

#include <pqxx/pqxx>

#include "core/errors.hpp"
#include "persistence/job_store.hpp"
#include "persistence/match_store.hpp"
#include "persistence/user_store.hpp"
#include "sync/shared_daily_quota.hpp"
#include "sync/sync_engine.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/quota_day_away.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/http_client.hpp"
#include "upstream/quota_day.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

struct outcome {
  sync_job job;
  sync::step_result last = sync::step_result::more;
  errc error = errc::none;
  std::string message;
  int steps = 0;
};

struct harness {
  explicit harness(const std::string& db_name, int page_size = 100)
    : url(test::fresh_database(db_name)), conn(url), quota_conn(url), single(quota_conn),
      page_size(page_size) {}

  std::unique_ptr<upstream::client> client() {
    upstream::http_client_options o;
    o.base_url = fake.url();
    o.timeout = 5s;
    o.max_retries = 4;
    o.backoff.base = 5ms;
    o.backoff.cap = 40ms;
    o.seed = 7;
    o.api_key = api_key;
    o.detail_lanes = detail_lanes;
    o.batch_bytes = batch_bytes;
    return std::make_unique<upstream::http_client>(o, budget);
  }

  sync_job start(std::int64_t account, job_type type) {
    auto user = db::user_store(conn).ensure(account);
    auto job = db::job_store(conn).create(user.id, account, type);
    auto started = db::job_store(conn).start(job.id, "node-a", 60);
    BOOST_REQUIRE(started);
    return *started;
  }

  // Runs the job's engine for at most `max_steps` steps (or to the end).
  outcome run(const sync_job& job, int max_steps = INT_MAX) {
    auto up = client();
    sync::engine_settings s;
    s.page_size = page_size;
    s.details_per_step = 5;
    s.fetch_ahead = fetch_ahead;
    sync::sync_engine engine(job, {job.id, *job.node, job.attempt}, *up, s);
    upstream::cancel_token token;
    outcome out;
    try {
      while (out.steps < max_steps) {
        out.last = engine.step(conn, token);
        ++out.steps;
        if (out.last != sync::step_result::more)
          break;
      }
    } catch (const domain_error& e) {
      out.error = e.code();
      out.message = e.what();
    }
    out.job = engine.job();
    return out;
  }

  outcome sync_to_end(std::int64_t account, job_type type) {
    return run(start(account, type));
  }

  // Every match the upstream lists is stored once, with details unless the
  // upstream has none; nothing else is stored.
  void check_complete(std::int64_t account, const std::set<std::int64_t>& no_details = {}) {
    auto history = fake.history(account);
    std::set<std::int64_t> upstream_ids;
    for (auto& m : history)
      upstream_ids.insert(m["match_id"].get<std::int64_t>());
    pqxx::nontransaction tx(conn);
    std::set<std::int64_t> stored;
    int lacking = 0;
    for (auto row : tx.exec_params(
           "SELECT match_id, details_state FROM matches WHERE account_id = $1", account)) {
      auto id = row[0].as<std::int64_t>();
      stored.insert(id);
      auto state = row[1].as<std::string>();
      bool expect_none = no_details.count(id) > 0;
      if (state != (expect_none ? "none" : "fetched"))
        ++lacking;
    }
    BOOST_TEST(stored.size() == upstream_ids.size());
    BOOST_TEST((stored == upstream_ids));
    BOOST_TEST(lacking == 0);
  }

  std::size_t count_requests(std::size_t since, const std::string& prefix) {
    std::size_t n = 0;
    for (auto& r : fake.log(since))
      if (r.path.rfind(prefix, 0) == 0)
        ++n;
    return n;
  }

  test::fake_opendota fake;
  std::string url;
  pqxx::connection conn;
  pqxx::connection quota_conn;    // the daily quota's own (steps may run beside it)
  db::single_connection single;
  int page_size;
  std::string api_key;
  int detail_lanes = 4;
  std::size_t batch_bytes = upstream::http_client_options{}.batch_bytes;
  sync::fetch_ahead_rule fetch_ahead = sync::fetch_ahead_rule::when_it_pays;
  upstream::local_rate_budget budget{0};
};

// Lends one connection and knows whether it is lent right now.
struct watched_source : db::connection_source {
  explicit watched_source(pqxx::connection& conn) : inner(conn) {}
  void with_connection(const std::function<void(pqxx::connection&)>& fn) override {
    set_lent(true);
    hold_for_a_call();
    try {
      inner.with_connection(fn);
    } catch (...) {
      set_lent(false);
      throw;
    }
    set_lent(false);
  }
  void set_lent(bool now) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      lent = now;
      loans += now ? 1 : 0;
    }
    returned.notify_all();
  }
  bool is_lent() {
    std::lock_guard<std::mutex> lock(mutex);
    return lent;
  }
  /// A call to the upstream began (watching_client); it is in flight until
  /// call_ended.
  void saw_call() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ++calls;
      ++in_flight;
      overlapped = overlapped || lent;
    }
    returned.notify_all();
  }
  void call_ended() {
    std::lock_guard<std::mutex> lock(mutex);
    --in_flight;
  }
  /// Whether an upstream call was in flight while a connection was lent: a
  /// batch fetched during a commit.
  bool saw_overlap() {
    std::lock_guard<std::mutex> lock(mutex);
    return overlapped;
  }
  /// With hold_loans: a loan waits (up to 2 s) for an upstream call to be in
  /// flight, until one has been. A fetch started ahead of a commit then
  /// meets the commit on a machine of any speed, whether its thread ran
  /// before the loan or after it (under TSan the commit was over before the
  /// fetch thread ran; beside another suite the fetch began first); without
  /// fetch ahead no call is in flight during a commit: no overlap.
  void hold_for_a_call() {
    std::unique_lock<std::mutex> lock(mutex);
    if (!hold_loans || overlapped)
      return;
    returned.wait_for(lock, std::chrono::seconds(2), [&] { return in_flight > 0; });
    overlapped = overlapped || in_flight > 0;
  }
  /// Waits until no connection is lent; false after `limit`.
  bool wait_returned(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex);
    return returned.wait_for(lock, limit, [&] { return !lent; });
  }
  db::single_connection inner;
  std::mutex mutex;
  std::condition_variable returned;
  bool lent = false;
  int loans = 0;
  bool hold_loans = false;
  int calls = 0;
  int in_flight = 0;
  bool overlapped = false;
};

// Ends a call's flight when the call returns, whichever way.
struct in_flight_until_return {
  explicit in_flight_until_return(watched_source& source) : source(source) {}
  ~in_flight_until_return() { source.call_ended(); }
  watched_source& source;
};

// Passes calls to the upstream on. A call made while a connection of
// `source` is lent (the next batch fetched during a commit) does not answer
// before the connection is back: a step that held its connection until the
// upstream answered would never get it back, and is counted.
struct watching_client : upstream::client {
  watching_client(upstream::client& inner, watched_source& source)
    : inner(inner), source(source) {}
  upstream::list_result list_matches(std::int64_t account_id, int limit, int offset,
                                     upstream::cancel_token& token) override {
    note();
    in_flight_until_return ended(source);
    return inner.list_matches(account_id, limit, offset, token);
  }
  upstream::fetch_result account(std::int64_t account_id,
                                 upstream::cancel_token& token) override {
    note();
    in_flight_until_return ended(source);
    return inner.account(account_id, token);
  }
  upstream::fetch_result win_loss(std::int64_t account_id,
                                  upstream::cancel_token& token) override {
    note();
    in_flight_until_return ended(source);
    return inner.win_loss(account_id, token);
  }
  upstream::detail_result match_detail(std::int64_t match_id,
                                       upstream::cancel_token& token) override {
    note();
    in_flight_until_return ended(source);
    return inner.match_detail(match_id, token);
  }
  std::vector<upstream::detail_result> match_details(
    const std::vector<std::int64_t>& match_ids, upstream::cancel_token& token) override {
    note();
    in_flight_until_return ended(source);
    return inner.match_details(match_ids, token);
  }
  void note() {
    ++calls;
    source.saw_call();
    if (!source.wait_returned(std::chrono::seconds(5)))
      ++answers_held_back;
  }
  upstream::client& inner;
  watched_source& source;
  std::atomic<int> calls{0};
  std::atomic<int> answers_held_back{0};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_engine)

BOOST_AUTO_TEST_CASE(a_step_never_holds_its_connection_while_the_upstream_answers) {
  harness h("engine_no_connection_held", 10);
  const std::int64_t account = 25;
  auto job = h.start(account, job_type::full_sync);
  auto up = h.client();
  watched_source source(h.conn);
  source.hold_loans = true;
  watching_client watched(*up, source);
  sync::engine_settings s;
  s.page_size = 10;
  s.details_per_step = 5;
  s.fetch_ahead = sync::fetch_ahead_rule::always;  // the case under test
  sync::sync_engine engine(job, {job.id, *job.node, job.attempt}, watched, s);
  upstream::cancel_token token;
  for (int steps = 0; steps < 100; ++steps)
    if (engine.step(source, token) != sync::step_result::more)
      break;
  BOOST_TEST(engine.job().status == job_status::completed);
  // The whole history in one list request (a full sync), then batches of 5.
  BOOST_TEST(watched.calls >= 1 + 5);
  BOOST_TEST(watched.answers_held_back == 0);
  BOOST_TEST(source.loans > 0);
  // Batches were fetched ahead while a commit held the connection.
  BOOST_TEST(source.saw_overlap());
  h.check_complete(account);
}

// The next batch is fetched while a batch commits. When that commit fails
// (here: the job was taken over), the step ends at once: the fetch ahead is
// cancelled, not waited out.
BOOST_AUTO_TEST_CASE(a_failed_commit_does_not_wait_for_the_batch_fetched_ahead) {
  harness h("engine_abandoned_fetch", 10);
  h.fake.set_detail_size(200);
  const std::int64_t account = 30;
  auto job = h.start(account, job_type::full_sync);
  auto up = h.client();
  sync::engine_settings s;
  s.page_size = 10;
  s.details_per_step = 5;
  // Not left to the timing rule: a step that declined to fetch ahead would
  // pass this test without testing anything.
  s.fetch_ahead = sync::fetch_ahead_rule::always;
  sync::sync_engine engine(job, {job.id, *job.node, job.attempt}, *up, s);
  upstream::cancel_token token;
  while (engine.job().phase != "details")
    BOOST_REQUIRE(engine.step(h.conn, token) == sync::step_result::more);
  BOOST_REQUIRE(h.count_requests(0, "/api/matches/") == 0u);  // pages only, so far

  // This step's five details answer at once, the five fetched ahead in 5 s.
  auto pass = test::scripted_answer::pass();
  pass.repeat = 5;
  auto slow = test::scripted_answer::delayed(5000);
  slow.repeat = 5;
  h.fake.script("/api/matches/.*", {pass, slow});
  BOOST_REQUIRE(db::job_store(h.conn).take_over(job.id, "node-b", 60));
  // The jobs table is held, so the step's commit waits until a request of
  // the fetch ahead is in flight. Not the job's row alone (FOR UPDATE): the
  // commit's fenced UPDATE no longer matches that row (node-b has it), and
  // PostgreSQL skips a row its WHERE rejects without waiting for its lock,
  // so the step could end before the fetch ahead sent anything (seen: 1 run
  // in 3 with another test process running beside it).
  pqxx::connection holder(h.url);
  pqxx::work hold(holder);
  hold.exec("LOCK TABLE sync_jobs IN SHARE MODE");

  auto step = std::async(std::launch::async, [&]() -> std::string {
    try {
      engine.step(h.conn, token);
      return "the step committed";
    } catch (const domain_error& e) {
      return e.code() == errc::fenced ? "fenced" : e.what();
    }
  });
  BOOST_REQUIRE_MESSAGE(h.fake.wait_for_requests("/api/matches/.*", 6, std::chrono::seconds(10)),
                        "no request of the batch fetched ahead reached the upstream");
  hold.commit();  // the commit goes on, and fails: the job is node-b's
  bool ended = step.wait_for(std::chrono::milliseconds(2500)) == std::future_status::ready;
  BOOST_TEST(ended, "the failed step waited for the batch fetched ahead");
  BOOST_TEST(step.get() == "fenced");
}

BOOST_AUTO_TEST_CASE(incremental_stores_everything_then_costs_only_the_new_matches) {
  harness h("engine_incremental");
  h.fake.set_detail_size(2000);
  const std::int64_t account = 537;
  auto first = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_REQUIRE(first.last == sync::step_result::done);
  BOOST_TEST(first.job.status == job_status::completed);
  BOOST_TEST(first.job.new_matches == 537);
  BOOST_TEST(first.job.processed_matches == 537);
  h.check_complete(account);

  h.fake.append_matches(account, 7);
  auto since = h.fake.log().size();
  auto second = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_REQUIRE(second.last == sync::step_result::done);
  BOOST_TEST(second.job.new_matches == 7);
  BOOST_TEST(second.job.total_matches == 7);
  BOOST_TEST(h.count_requests(since, "/api/players/") <= 2u);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 7u);
  h.check_complete(account);
}

// SPEC §4: an incremental's total is "the new ones plus stored ones still
// lacking details; it grows while listing", leftovers counted from the start.
BOOST_AUTO_TEST_CASE(an_incremental_total_counts_leftovers_while_it_lists) {
  harness h("engine_total_leftovers", 10);
  h.fake.set_detail_size(200);
  const std::int64_t account = 40;
  // A first incremental lists all 40 and stores 5 details, then is cancelled:
  // 35 leftovers lack details.
  auto first = h.start(account, job_type::incremental_sync);
  auto part = h.run(first, 4 + 1 + 1);  // 4 full pages, the empty end, 1 batch
  BOOST_REQUIRE(part.job.phase == "details");
  BOOST_REQUIRE(part.job.processed_matches == 5);
  db::job_store jobs(h.conn);
  BOOST_REQUIRE(jobs.request_cancel(first.id));
  jobs.finish_cancelled({first.id, "node-a", first.attempt});

  h.fake.append_matches(account, 25);  // three pages of news: 10, 10, 5
  auto second = h.start(account, job_type::incremental_sync);
  auto one_page = h.run(second, 1);
  BOOST_REQUIRE(one_page.job.phase == "listing");
  BOOST_TEST(one_page.job.new_matches == 10);
  BOOST_TEST(one_page.job.total_matches == 10 + 35);
  auto rest = h.run(one_page.job);
  BOOST_TEST(rest.job.status == job_status::completed);
  BOOST_TEST(rest.job.new_matches == 25);
  BOOST_TEST(rest.job.total_matches == 25 + 35);
  BOOST_TEST(rest.job.processed_matches == 25 + 35);
  h.check_complete(account);
}

BOOST_AUTO_TEST_CASE(an_empty_history_completes_with_nothing_stored) {
  harness h("engine_empty");
  auto r = h.sync_to_end(1000, job_type::incremental_sync);  // 1000 % 1000 == 0
  BOOST_TEST(r.job.status == job_status::completed);
  BOOST_TEST(r.job.total_matches == 0);
  h.check_complete(1000);
}

BOOST_AUTO_TEST_CASE(page_boundaries_99_100_101_are_all_complete) {
  harness h("engine_boundaries");
  h.fake.set_detail_size(300);
  for (std::int64_t account : {1, 99, 100, 101}) {
    auto r = h.sync_to_end(account, job_type::full_sync);
    BOOST_TEST(r.job.status == job_status::completed);
    h.check_complete(account);
  }
}

BOOST_AUTO_TEST_CASE(an_interrupted_job_resumed_from_its_row_ends_with_the_same_data) {
  harness h("engine_resume", 20);
  h.fake.set_detail_size(300);
  const std::int64_t account = 130;
  auto job = h.start(account, job_type::full_sync);
  auto part = h.run(job, 4);  // four pages committed, then the node "dies"
  BOOST_REQUIRE(part.last == sync::step_result::more);
  auto taken = db::job_store(h.conn).take_over(job.id, "node-b", 60);
  BOOST_REQUIRE(taken);
  BOOST_TEST(taken->list_offset == 80);
  // The dead owner can no longer write.
  auto zombie = h.run(job, 1);
  BOOST_TEST(zombie.error == errc::fenced);
  auto rest = h.run(*taken);
  BOOST_TEST(rest.job.status == job_status::completed);
  BOOST_TEST(rest.job.new_matches == 130);
  h.check_complete(account);
}

BOOST_AUTO_TEST_CASE(no_gaps_after_any_mix_of_interrupted_and_completed_syncs) {
  harness h("engine_no_gaps", 10);
  h.fake.set_detail_size(200);
  std::mt19937 rng(20261128);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int cases = 200;
  int interrupted = 0;
  for (int c = 0; c < cases; ++c) {
    const std::int64_t account = 5000 + c;
    h.fake.set_history_size(account, pick(0, 45));
    int runs = pick(1, 4);
    for (int r = 0; r < runs; ++r) {
      auto type = pick(0, 1) ? job_type::full_sync : job_type::incremental_sync;
      auto job = h.start(account, type);
      db::job_store jobs(h.conn);
      if (pick(0, 9) < 3) {
        h.run(job);  // to completion
      } else {
        ++interrupted;
        auto part = h.run(job, pick(0, 8));
        h.fake.append_matches(account, pick(0, 3));  // news while interrupted
        if (part.last == sync::step_result::done)
          continue;  // short history: it finished before the interruption
        switch (pick(0, 2)) {
          case 0:  // cancelled by the user
            BOOST_REQUIRE(jobs.request_cancel(job.id));
            jobs.finish_cancelled({job.id, "node-a", job.attempt});
            break;
          case 1:  // failed
            jobs.fail_any(job.id, "upstream failed");
            break;
          default: {  // the node crashed: resumed elsewhere, interrupted again
            auto taken = jobs.take_over(job.id, "node-b", 60);
            if (taken && taken->status == job_status::running) {
              h.run(*taken, pick(0, 6));
              jobs.fail_any(job.id, "worker lost");
            }
          }
        }
      }
      h.fake.append_matches(account, pick(0, 12));
    }
    auto last = h.sync_to_end(account, job_type::incremental_sync);
    BOOST_TEST_CONTEXT("case " << c) {
      BOOST_TEST(last.job.status == job_status::completed);
      h.check_complete(account);
    }
  }
  BOOST_TEST(interrupted > cases / 2);
}

BOOST_AUTO_TEST_CASE(full_sync_counts_changed_matches_as_updated_once) {
  harness h("engine_updates");
  h.fake.set_detail_size(500);
  const std::int64_t account = 120;
  BOOST_REQUIRE(h.sync_to_end(account, job_type::full_sync).job.status ==
                job_status::completed);
  auto ids = h.fake.history(account);
  std::vector<std::int64_t> changed;
  for (int i : {0, 5, 77}) {
    changed.push_back(ids[i]["match_id"].get<std::int64_t>());
    h.fake.change_match(changed.back());
  }
  auto second = h.sync_to_end(account, job_type::full_sync);
  BOOST_TEST(second.job.status == job_status::completed);
  BOOST_TEST(second.job.updated_matches == 3);
  BOOST_TEST(second.job.new_matches == 0);
  {
    pqxx::nontransaction tx(h.conn);
    for (auto id : changed) {
      auto v = tx.exec_params1("SELECT details->>'version' FROM match_details WHERE match_id = $1", id);
      BOOST_TEST(v[0].as<std::string>() != "0");
    }
  }
  auto third = h.sync_to_end(account, job_type::full_sync);
  BOOST_TEST(third.job.updated_matches == 0);
}

// SPEC §3: a full sync counts a match updated only when its summary, its
// parse state or a detail field OpenDota does not compute per request
// changed, though every answer differs in those fields; the details stored
// are still the newest.
BOOST_AUTO_TEST_CASE(full_sync_ignores_request_time_fields_when_counting_updates) {
  harness h("engine_request_time");
  h.fake.set_detail_size(1500);
  h.fake.set_request_time_fields();
  const std::int64_t account = 60;
  auto first = h.sync_to_end(account, job_type::full_sync);
  BOOST_REQUIRE(first.job.status == job_status::completed);
  BOOST_TEST(first.job.new_matches == 60);
  auto second = h.sync_to_end(account, job_type::full_sync);
  BOOST_TEST(second.job.status == job_status::completed);
  BOOST_TEST(second.job.processed_matches == 60);
  BOOST_TEST(second.job.updated_matches == 0);
  // Each answer's benchmark percentile is its serial number / 1000: the
  // stored details of an unchanged match are those of the newest answer.
  auto history = h.fake.history(account);
  auto unchanged = history[3]["match_id"].get<std::int64_t>();
  auto pct = [&](std::int64_t id) {
    pqxx::nontransaction tx(h.conn);
    return tx.exec_params1("SELECT details->'players'->0->'benchmarks'->'gold_per_min'->>'pct' "
                           "FROM matches JOIN match_details USING (match_id) WHERE account_id = $1 AND match_id = $2", account, id)[0]
      .as<std::string>();
  };
  auto before = pct(unchanged);
  auto changed = history[7]["match_id"].get<std::int64_t>();
  h.fake.change_match(changed);  // its kill count grows
  auto third = h.sync_to_end(account, job_type::full_sync);
  BOOST_TEST(third.job.updated_matches == 1);
  BOOST_TEST(pct(unchanged) != before);
  pqxx::nontransaction tx(h.conn);
  BOOST_TEST(tx.exec_params1("SELECT match_id FROM matches WHERE account_id = $1 "
                             "AND changed_by_job = $2", account, third.job.id)[0]
               .as<std::int64_t>() == changed);
}

// SPEC §3: OpenDota adds older matches to a history after the fact. An
// incremental that stops at the known-complete part asks the history's size
// (/wl, one request); only when the upstream lists more than is stored does
// it list the whole history, and it stores exactly what arrived with
// details. Matches that vanish upstream are kept.
BOOST_AUTO_TEST_CASE(backfilled_matches_below_the_mark_are_found_and_stored) {
  harness h("engine_backfill");
  h.fake.set_detail_size(800);
  const std::int64_t account = 300;
  std::set<std::string> backfilled;
  for (int index = 5; index < 200; index += 10) {
    auto id = test::fake_opendota::match_id(account, index);
    h.fake.set_hidden(id);
    backfilled.insert("/api/matches/" + std::to_string(id));
  }
  BOOST_REQUIRE(backfilled.size() == 20u);
  auto first = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_REQUIRE(first.job.status == job_status::completed);
  BOOST_TEST(first.job.new_matches == 280);

  // Nothing inserted: one request more than the page, no detail request.
  auto since = h.fake.log().size();
  auto quiet = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(quiet.job.status == job_status::completed);
  BOOST_TEST(quiet.job.new_matches == 0);
  BOOST_TEST(h.count_requests(since, "/api/players/") == 2u);
  BOOST_TEST(h.count_requests(since, "/api/players/300/wl") == 1u);
  for (auto& r : h.fake.log(since))
    if (r.path == "/api/players/300/wl")
      BOOST_TEST(r.params["significant"] == "0");  // the listing's matches
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 0u);

  for (int index = 5; index < 200; index += 10)
    h.fake.set_hidden(test::fake_opendota::match_id(account, index), false);
  since = h.fake.log().size();
  auto second = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(second.job.status == job_status::completed);
  BOOST_TEST(second.job.new_matches == 20);
  BOOST_TEST(second.job.updated_matches == 0);
  std::set<std::string> fetched;
  for (auto& r : h.fake.log(since))
    if (r.path.rfind("/api/matches/", 0) == 0)
      fetched.insert(r.path);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 20u);
  BOOST_TEST((fetched == backfilled));
  // The page, the size, the whole history once.
  BOOST_TEST(h.count_requests(since, "/api/players/") == 3u);
  h.check_complete(account);

  // Gone upstream (a profile hiding part of it): kept, nothing listed whole.
  for (int index = 0; index < 5; ++index)
    h.fake.set_hidden(test::fake_opendota::match_id(account, index));
  since = h.fake.log().size();
  auto third = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(third.job.status == job_status::completed);
  BOOST_TEST(h.count_requests(since, "/api/players/") == 2u);
  pqxx::nontransaction tx(h.conn);
  BOOST_TEST(tx.exec_params1("SELECT count(*) FROM matches WHERE account_id = $1", account)[0]
               .as<int>() == 300);
}

// SPEC §3: a replay parsed days later shows in the listing as a `version`
// where there was null; an incremental that lists the match fetches its
// details again (counted updated), and spends nothing on the others.
BOOST_AUTO_TEST_CASE(matches_parsed_later_are_fetched_again_once_and_counted_updated) {
  harness h("engine_parsed_later");
  h.fake.set_detail_size(1500);
  const std::int64_t account = 150;
  h.fake.set_unparsed(account);
  auto first = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_REQUIRE(first.job.status == job_status::completed);
  BOOST_TEST(first.job.new_matches == 150);
  // 50 of the newest 100 (the page an incremental lists) are parsed now.
  auto history = h.fake.history(account);
  std::set<std::string> parsed;
  for (int i = 0; i < 100; i += 2) {
    auto id = history[i]["match_id"].get<std::int64_t>();
    h.fake.parse_match(id);
    parsed.insert("/api/matches/" + std::to_string(id));
  }
  auto since = h.fake.log().size();
  auto second = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(second.job.status == job_status::completed);
  BOOST_TEST(second.job.new_matches == 0);
  BOOST_TEST(second.job.updated_matches == 50);
  BOOST_TEST(second.job.processed_matches == 50);
  std::set<std::string> fetched;
  for (auto& r : h.fake.log(since))
    if (r.path.rfind("/api/matches/", 0) == 0)
      fetched.insert(r.path);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 50u);
  BOOST_TEST((fetched == parsed));
  {
    pqxx::nontransaction tx(h.conn);
    auto row = tx.exec_params1(
      "SELECT count(*) FILTER (WHERE d.details::jsonb->'players'->0 ? 'purchase_log'), "
      "count(*) FILTER (WHERE details_state = 'fetched') FROM matches m "
      "LEFT JOIN match_details d USING (match_id) WHERE account_id = $1",
      account);
    BOOST_TEST(row[0].as<int>() == 50);
    BOOST_TEST(row[1].as<int>() == 150);
  }
  h.check_complete(account);
  since = h.fake.log().size();
  auto third = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(third.job.updated_matches == 0);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 0u);
}

// SPEC §3, one fetch per match: accounts 60 and 61 each played 40 of
// account 120's matches. After 120's sync, neither an incremental nor a full
// sync of theirs asks for those 40 details, and both serve them, with their
// own per-player values. A parse re-fetched for one account serves them all.
BOOST_AUTO_TEST_CASE(a_match_another_account_synced_is_not_fetched_again) {
  harness h("engine_shared_matches");
  h.fake.set_detail_size(1500);
  const std::int64_t owner = 120;
  h.fake.set_unparsed(owner);
  auto shared = h.fake.share_matches(60, owner, 40);
  BOOST_REQUIRE(shared.size() == 40u);
  BOOST_REQUIRE(h.fake.share_matches(61, owner, 40) == shared);
  std::set<std::string> shared_paths;
  for (auto id : shared)
    shared_paths.insert("/api/matches/" + std::to_string(id));
  BOOST_REQUIRE(h.sync_to_end(owner, job_type::incremental_sync).job.status ==
                job_status::completed);

  for (auto [player, type] : {std::pair{std::int64_t{60}, job_type::incremental_sync},
                              std::pair{std::int64_t{61}, job_type::full_sync}}) {
    auto since = h.fake.log().size();
    auto out = h.sync_to_end(player, type);
    BOOST_TEST(out.job.status == job_status::completed);
    BOOST_TEST(out.job.new_matches == player + 40);
    BOOST_TEST(out.job.processed_matches == out.job.total_matches);
    std::size_t asked_shared = 0;
    for (auto& r : h.fake.log(since))
      asked_shared += shared_paths.count(r.path);
    BOOST_TEST(asked_shared == 0u);
    BOOST_TEST(h.count_requests(since, "/api/matches/") == static_cast<std::size_t>(player));
    h.check_complete(player);
    db::match_store store(h.conn);
    for (auto id : shared) {
      auto m = store.get(player, id);
      BOOST_REQUIRE(m);
      BOOST_REQUIRE(m->details_json);
      BOOST_TEST(nlohmann::json::parse(*m->details_json)["match_id"].get<std::int64_t>() == id);
    }
    // The listing's per-player values stay the player's own.
    BOOST_TEST(store.get(player, shared[0])->player_slot.value() !=
               store.get(owner, shared[0])->player_slot.value());
  }
  {
    pqxx::nontransaction tx(h.conn);
    BOOST_TEST(tx.exec1("SELECT count(*) FROM match_details")[0].as<int>() == 120 + 60 + 61);
  }

  // Parsed later: the owner's incremental fetches it again, once for all.
  h.fake.parse_match(shared[0]);
  auto since = h.fake.log().size();
  BOOST_TEST(h.sync_to_end(owner, job_type::incremental_sync).job.updated_matches == 1);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 1u);
  since = h.fake.log().size();
  auto later = h.sync_to_end(60, job_type::incremental_sync);
  BOOST_TEST(later.job.status == job_status::completed);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 0u);
  auto parsed = db::match_store(h.conn).get(60, shared[0]);
  BOOST_REQUIRE(parsed->details_json);
  BOOST_TEST(parsed->details_json->find("purchase_log") != std::string::npos);
}

// SPEC §2/§3: the daily-limit body and X-Rate-Limit-Remaining-Day: 0 each
// put the job into the same quota wait until the upstream's day starts,
// never a failure; the wait is written to the job's row. The day starts 12
// hours from now (test::day_start_12h_away), so no case meets its start.
std::string next_day_start(int day_start_minute) {
  auto next = upstream::next_quota_day(std::chrono::system_clock::now().time_since_epoch(),
                                       day_start_minute);
  auto t = static_cast<std::time_t>(std::chrono::duration_cast<std::chrono::seconds>(next).count());
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return out;
}

BOOST_AUTO_TEST_CASE(the_daily_limit_body_puts_the_job_into_a_quota_wait) {
  harness h("engine_daily_limit");
  auto day_start = test::day_start_12h_away();
  auto quota = std::make_shared<sync::shared_daily_quota>(h.single, 0, day_start);
  h.budget.set_daily(quota);
  h.fake.script("/api/players/.*", {test::scripted_answer::daily_limit()});
  auto r = h.sync_to_end(10, job_type::incremental_sync);
  BOOST_TEST(r.error == errc::none, r.message);
  BOOST_TEST((r.last == sync::step_result::waiting_quota));
  auto stored = *db::job_store(h.conn).find(r.job.id);
  BOOST_TEST(stored.status == job_status::running);
  BOOST_TEST(stored.resume_at.value_or("") == next_day_start(day_start));
  BOOST_TEST(stored.phase.value_or("") == "listing");  // what it resumes in
  // The next request is refused here, without asking the upstream.
  auto again = h.run(stored);
  BOOST_TEST((again.last == sync::step_result::waiting_quota));
  BOOST_TEST(h.fake.log().size() == 1u);
}

BOOST_AUTO_TEST_CASE(remaining_day_zero_puts_the_job_into_the_same_wait_after_using_the_answer) {
  harness h("engine_remaining_day");
  auto day_start = test::day_start_12h_away();
  auto quota = std::make_shared<sync::shared_daily_quota>(h.single, 0, day_start);
  h.budget.set_daily(quota);
  matchsync::test::quota_limits l;
  l.per_day = 1;
  h.fake.set_limits(l);
  auto r = h.sync_to_end(10, job_type::incremental_sync);
  BOOST_TEST(r.error == errc::none, r.message);
  BOOST_TEST((r.last == sync::step_result::waiting_quota));
  auto stored = *db::job_store(h.conn).find(r.job.id);
  BOOST_TEST(stored.resume_at.value_or("") == next_day_start(day_start));
  // The one answer was used (the listing committed), and nothing followed it.
  BOOST_TEST(stored.new_matches == 10);
  BOOST_TEST(h.fake.log().size() == 1u);
  BOOST_TEST(h.fake.log().at(0).status == 200);
}

BOOST_AUTO_TEST_CASE(our_own_daily_limit_waits_before_the_upstream_refuses) {
  harness h("engine_own_daily_limit");
  auto day_start = test::day_start_12h_away();
  auto quota = std::make_shared<sync::shared_daily_quota>(h.single, 3, day_start);
  h.budget.set_daily(quota);
  h.fake.set_detail_size(300);
  auto r = h.sync_to_end(10, job_type::incremental_sync);
  BOOST_TEST((r.last == sync::step_result::waiting_quota));
  BOOST_TEST(h.fake.log().size() == 3u);
  BOOST_TEST(quota->usage().used == 3);
  // A second quota object (another node, a restart) sees the same count.
  sync::shared_daily_quota other(h.single, 3, day_start);
  BOOST_TEST(other.take().has_value());
  BOOST_TEST(other.usage().used == 3);
}

// Issue 15: the day's quota is not spent twice. A batch the day cuts
// short commits what was fetched before the cut; after the wait only the
// rest is asked for (it was the whole batch again: up to 19 requests of the
// next day per job, and two jobs cut short could not finish in it).
BOOST_AUTO_TEST_CASE(a_batch_cut_by_the_daily_limit_keeps_what_was_fetched_before_the_cut) {
  harness h("engine_cut_batch");
  h.detail_lanes = 1;  // requests in order: the cut falls after exactly two
  h.fake.set_detail_size(300);
  std::atomic<int> days{0};
  auto wall = [&] {
    return std::chrono::system_clock::now().time_since_epoch() + days.load() * std::chrono::hours(24);
  };
  // The list, a batch of 5, then 2 of the next batch of 5.
  auto quota = std::make_shared<sync::shared_daily_quota>(h.single, 8, test::day_start_12h_away(), wall);
  h.budget.set_daily(quota);
  auto r = h.sync_to_end(12, job_type::incremental_sync);
  BOOST_TEST((r.last == sync::step_result::waiting_quota));
  BOOST_TEST(r.job.processed_matches == 7);
  BOOST_TEST(h.fake.log().size() == 8u);
  days = 1;
  auto rest = h.run(*db::job_store(h.conn).find(r.job.id));
  BOOST_TEST(rest.error == errc::none, rest.message);
  BOOST_TEST(rest.job.status == job_status::completed);
  BOOST_TEST(rest.job.processed_matches == 12);
  BOOST_TEST(h.count_requests(0, "/api/matches/") == 12u);  // each detail asked once
  h.check_complete(12);
}

BOOST_AUTO_TEST_CASE(a_400_about_the_key_fails_the_job_at_once_naming_the_setting) {
  harness h("engine_bad_key");
  h.api_key = "not-a-uuid";
  auto r = h.sync_to_end(10, job_type::incremental_sync);
  BOOST_TEST(r.error == errc::upstream_failed);
  BOOST_TEST(r.message.find("MATCHSYNC_UPSTREAM_API_KEY") != std::string::npos, r.message);
  BOOST_TEST(h.fake.log().size() == 1u);
}

// SPEC §2: private and unknown accounts list [] like an empty history; the
// account route tells them apart, asked once.
BOOST_AUTO_TEST_CASE(an_unknown_account_fails_saying_opendota_knows_no_such_account) {
  harness h("engine_unknown_account");
  h.fake.set_account_kind(77, "unknown");
  auto r = h.sync_to_end(77, job_type::incremental_sync);
  BOOST_TEST(r.error == errc::upstream_failed);
  BOOST_TEST(r.message == "OpenDota knows no account 77");
  BOOST_TEST(h.count_requests(0, "/api/players/77") == 2u);  // the list, the account
}

BOOST_AUTO_TEST_CASE(a_private_account_fails_saying_how_to_expose_match_data) {
  harness h("engine_private_account");
  h.fake.set_history_size(78, 30);
  h.fake.set_account_kind(78, "private");
  auto r = h.sync_to_end(78, job_type::full_sync);
  BOOST_TEST(r.error == errc::upstream_failed);
  BOOST_TEST(r.message.find("private") != std::string::npos, r.message);
  BOOST_TEST(r.message.find("Expose Public Match Data") != std::string::npos, r.message);
  BOOST_TEST(r.message.find("78") != std::string::npos, r.message);
}

BOOST_AUTO_TEST_CASE(a_public_empty_history_completes_with_zero_matches) {
  harness h("engine_empty_account");
  auto r = h.sync_to_end(1000, job_type::incremental_sync);  // 1000 % 1000 = 0 matches
  BOOST_TEST(r.error == errc::none, r.message);
  BOOST_TEST((r.last == sync::step_result::done));
  BOOST_TEST(r.job.status == job_status::completed);
  BOOST_TEST(r.job.total_matches == 0);
  BOOST_TEST(h.count_requests(0, "/api/players/1000") == 2u);
}

// SPEC §2: a full sync lists any history in at most 2 list requests (the
// whole-history answer), still committed a page per step; an incremental
// with nothing new makes at most 2 requests in all.
// Issue 16: the client cuts a batch once its details reach batch_bytes;
// the step commits what was fetched and the next one starts after it.
BOOST_AUTO_TEST_CASE(a_batch_cut_by_bytes_commits_what_was_fetched_and_the_next_takes_the_rest) {
  harness h("engine_bytes_cut");
  h.detail_lanes = 1;  // in order: every batch is cut after exactly three
  h.batch_bytes = 45000;
  h.fake.set_detail_size(20000);
  auto r = h.sync_to_end(37, job_type::full_sync);
  BOOST_TEST(r.error == errc::none, r.message);
  BOOST_TEST((r.last == sync::step_result::done));
  BOOST_TEST(r.job.processed_matches == 37);
  // A list step, 13 batches of at most 3 (not 8 of 5), the end.
  BOOST_TEST(r.steps == 1 + 13 + 1);
  BOOST_TEST(h.count_requests(0, "/api/matches/") == 37u);  // each detail asked once
  h.check_complete(37);
}

BOOST_AUTO_TEST_CASE(batches_fetched_ahead_and_cut_by_bytes_are_each_asked_once) {
  harness h("engine_bytes_cut_ahead");
  h.batch_bytes = 45000;
  h.fetch_ahead = sync::fetch_ahead_rule::always;
  h.fake.set_detail_size(20000);
  h.fake.set_latency(5);  // every lane in use: cuts fall anywhere
  auto r = h.sync_to_end(61, job_type::full_sync);
  BOOST_TEST(r.error == errc::none, r.message);
  BOOST_TEST((r.last == sync::step_result::done));
  BOOST_TEST(r.job.processed_matches == 61);
  BOOST_TEST(r.steps > 1 + 61 / 5 + 1);  // batches were cut
  BOOST_TEST(h.count_requests(0, "/api/matches/") == 61u);
  h.check_complete(61);
}

BOOST_AUTO_TEST_CASE(a_full_sync_of_6000_matches_lists_in_one_request_and_commits_in_pages) {
  harness h("engine_whole_history");
  h.fake.set_history_size(79, 6000);
  h.fake.set_detail_size(200);
  auto job = h.start(79, job_type::full_sync);
  // Listing only: 60 pages of 100, each its own step and commit.
  auto listed = h.run(job, 60);
  BOOST_TEST(listed.error == errc::none, listed.message);
  BOOST_TEST(listed.job.list_offset == 6000);
  BOOST_TEST(h.count_requests(0, "/api/players/79/matches") == 1u);
  BOOST_TEST(h.fake.log().at(0).params.count("limit") == 0u);
  // Interrupted there and resumed by a new engine: one more list request.
  auto rest = h.run(*db::job_store(h.conn).find(job.id));
  BOOST_TEST(rest.error == errc::none, rest.message);
  BOOST_TEST(rest.job.status == job_status::completed);
  BOOST_TEST(h.count_requests(0, "/api/players/79/matches") <= 2u);
  h.check_complete(79);
  auto since = h.fake.log().size();
  auto inc = h.sync_to_end(79, job_type::incremental_sync);
  BOOST_TEST(inc.job.status == job_status::completed);
  BOOST_TEST(h.fake.log(since).size() <= 2u);
}

BOOST_AUTO_TEST_CASE(a_list_page_that_keeps_failing_fails_the_job_clearly) {
  harness h("engine_list_fails");
  h.fake.script("/api/players/.*", {test::scripted_answer::http_status(503).times(10)});
  auto r = h.sync_to_end(10, job_type::incremental_sync);
  BOOST_TEST(r.error == errc::upstream_failed);
  BOOST_TEST(r.message.find("offset 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(thirty_percent_5xx_still_ends_with_complete_data) {
  harness h("engine_flaky");
  h.fake.set_detail_size(500);
  h.fake.set_random_errors(0.3, {500, 502, 503}, 42);
  auto r = h.sync_to_end(150, job_type::full_sync);
  h.fake.set_random_errors(0.0);
  BOOST_TEST(r.job.status == job_status::completed);
  // Details that exhausted their retries are fetched by the next sync.
  if (r.job.failed_matches > 0)
    BOOST_TEST(h.sync_to_end(150, job_type::incremental_sync).job.status ==
               job_status::completed);
  h.check_complete(150);
}

BOOST_AUTO_TEST_CASE(malformed_details_are_retried_then_recorded_and_fetched_later) {
  harness h("engine_malformed");
  const std::int64_t account = 3;
  auto bad = test::fake_opendota::match_id(account, 1);
  h.fake.script("/api/matches/" + std::to_string(bad),
                {test::scripted_answer::malformed_json().times(5)});
  auto r = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(r.job.status == job_status::completed);
  BOOST_TEST(r.job.failed_matches == 1);
  BOOST_TEST(h.fake.pending_scripted_answers() == 0);
  auto again = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(again.job.total_matches == 1);
  BOOST_TEST(again.job.failed_matches == 0);
  h.check_complete(account);
}

BOOST_AUTO_TEST_CASE(a_404_detail_is_recorded_and_not_asked_again) {
  harness h("engine_404");
  const std::int64_t account = 4;
  auto missing = test::fake_opendota::match_id(account, 2);
  h.fake.set_no_details(missing);
  BOOST_TEST(h.sync_to_end(account, job_type::incremental_sync).job.status ==
             job_status::completed);
  auto since = h.fake.log().size();
  auto again = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(again.job.total_matches == 0);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 0u);
  h.check_complete(account, {missing});
}

// SPEC §2: a detail whose text jsonb refuses (a lone surrogate escape, a
// \u0000) is stored with those escapes as U+FFFD and nothing else changed,
// counted as repaired, never failed, never asked again for it.
BOOST_AUTO_TEST_CASE(escapes_jsonb_refuses_are_stored_as_u_fffd_once_and_not_asked_again) {
  harness h("engine_bad_escapes");
  h.fake.set_detail_size(2000);
  const std::int64_t account = 6;
  auto odd = test::fake_opendota::match_id(account, 2);
  h.fake.set_bad_escapes(odd);
  auto r = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(r.job.status == job_status::completed);
  BOOST_TEST(r.job.failed_matches == 0);
  BOOST_TEST(r.job.repaired_matches == 1);
  BOOST_TEST(db::job_store(h.conn).find(r.job.id)->repaired_matches == 1);
  h.check_complete(account);
  {
    pqxx::nontransaction tx(h.conn);
    auto row = tx.exec_params1(
      "SELECT details->'players'->0->>'personaname', details->'odd_text'->>'chat', "
      "details->'odd_text'->>'emoji', details->'odd_text'->>'escaped', "
      "details->>'match_id' FROM match_details WHERE match_id = $1", odd);
    BOOST_TEST(row[0].as<std::string>() == "ab\xef\xbf\xbd");
    BOOST_TEST(row[1].as<std::string>() == "gg\xef\xbf\xbdwp");
    BOOST_TEST(row[2].as<std::string>() == "\xf0\x9f\x98\x80");
    BOOST_TEST(row[3].as<std::string>() == "\\ud83d");
    BOOST_TEST(row[4].as<std::int64_t>() == odd);
  }
  // Asked once: the first sync's requests for it were one, the next sync's none.
  BOOST_TEST(h.count_requests(0, "/api/matches/" + std::to_string(odd)) == 1u);
  auto since = h.fake.log().size();
  auto again = h.sync_to_end(account, job_type::incremental_sync);
  BOOST_TEST(again.job.status == job_status::completed);
  BOOST_TEST(again.job.total_matches == 0);
  BOOST_TEST(again.job.repaired_matches == 0);
  BOOST_TEST(h.count_requests(since, "/api/matches/") == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_token_drops_the_request_in_flight) {
  harness h("engine_cancel");
  h.fake.set_latency(5000);
  auto job = h.start(20, job_type::incremental_sync);
  auto up = h.client();
  sync::sync_engine engine(job, {job.id, "node-a", job.attempt}, *up, {});
  upstream::cancel_token token;
  std::thread canceller([&] {
    h.fake.wait_for_requests("/api/players/.*", 1, 5s);
    token.cancel();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = engine.step(h.conn, token);
  auto took = std::chrono::steady_clock::now() - t0;
  canceller.join();
  BOOST_TEST((r == sync::step_result::cancelled));
  BOOST_TEST((took < 3s));
  BOOST_TEST(db::job_store(h.conn).find(job.id)->list_offset == 0);
}

BOOST_AUTO_TEST_SUITE_END()
