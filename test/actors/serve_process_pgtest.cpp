// The actor core in real processes: `matchsync serve` killed mid-sync and
// restarted, and PostgreSQL stopped under a running sync.
#define BOOST_TEST_MODULE serve_process
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <cmath>
#include <csignal>
#include <ctime>
#include <fstream>
#include <limits>
#include <regex>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/token.hpp"
#include "persistence/job_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> serve_env(const std::string& db_url,
                                             const std::string& upstream,
                                             const std::string& node) {
  return {{"MATCHSYNC_DATABASE_URL", db_url},
          {"MATCHSYNC_UPSTREAM_URL", upstream},
          {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", "0"},
          {"MATCHSYNC_UPSTREAM_DAILY_LIMIT", "0"},
          {"MATCHSYNC_UPSTREAM_PAGE_SIZE", "50"},
          {"MATCHSYNC_UPSTREAM_BACKOFF_BASE_MS", "20"},
          {"MATCHSYNC_HTTP_PORT", "0"},
          {"MATCHSYNC_CLUSTER_PORT", "0"},
          {"MATCHSYNC_JOB_LEASE_S", "2"},
          {"MATCHSYNC_NODE_ID", node}};
}

std::unique_ptr<test::child_process> start_serve(std::map<std::string, std::string> env) {
  auto p = std::make_unique<test::child_process>(
    std::vector<std::string>{test::binary_path("app/matchsync"), "serve"}, env);
  BOOST_REQUIRE_MESSAGE(p->wait_for_output("listening url=", 30s), p->output());
  return p;
}

int http_port(const test::child_process& p) {
  std::smatch m;
  auto out = p.output();
  BOOST_REQUIRE(std::regex_search(out, m, std::regex("127\\.0\\.0\\.1:(\\d+)/")));
  return std::stoi(m[1]);
}

sync_job row(const std::string& url, std::int64_t id) {
  pqxx::connection c(url);
  return *db::job_store(c).find(id);
}

std::int64_t stored_with_details(const std::string& url, std::int64_t account) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  return tx.exec_params1("SELECT count(*) FROM matches WHERE account_id = $1 "
                         "AND details_state = 'fetched'", account)[0].as<std::int64_t>();
}

std::int64_t pending_job(const std::string& url, std::int64_t account, job_type type) {
  pqxx::connection c(url);
  auto user = db::user_store(c).ensure(account);
  return db::job_store(c).create(user.id, account, type).id;
}

struct ready_answer {
  int status = 0;  // 0: no answer
  std::string detail;
};

ready_answer ready(int port) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(5, 0);
  auto r = cli.Get("/ready");
  if (!r)
    return {};
  auto body = nlohmann::json::parse(r->body, nullptr, false);
  return {r->status, body.is_object() ? body.value("detail", "") : ""};
}

int ready_status(int port) { return ready(port).status; }

// A private cluster this test may stop and start without disturbing others.
struct private_cluster {
  private_cluster() : dir(test::test_output_dir("serve_process") + "/pg") {
    std::string cmd = std::string(MATCHSYNC_SOURCE_DIR) + "/scripts/pg.sh start " + dir + " --throwaway" +
                      " >/dev/null";
    BOOST_REQUIRE(std::system(cmd.c_str()) == 0);
    std::ifstream in(dir + "/url");
    std::getline(in, url);
    std::ifstream pin(dir + "/port");
    pin >> port;
    pqxx::connection c(url);
    // The cluster's directory outlives a run: start from an empty schema, or
    // the jobs an interrupted run left behind refuse this run's triggers.
    {
      pqxx::nontransaction tx(c);
      tx.exec("DROP SCHEMA public CASCADE");
      tx.exec("CREATE SCHEMA public");
    }
    db::migrator().apply(c);
  }
  ~private_cluster() {
    std::string cmd = std::string(MATCHSYNC_SOURCE_DIR) + "/scripts/pg.sh stop " + dir;
    if (std::system(cmd.c_str()) != 0)
      BOOST_TEST_MESSAGE("could not stop " << dir);
  }
  int pg_ctl(const std::string& action) {
    std::string cmd = "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D " + dir +
                      "/data -l " + dir + "/log -w -m fast -o '-p " + std::to_string(port) +
                      " -k " + dir + " -c listen_addresses=\"\" -c fsync=off' " +
                      action + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }
  std::string dir, url;
  int port = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(serve_process)

BOOST_AUTO_TEST_CASE(a_job_of_a_killed_serve_is_resumed_by_the_next_one_and_completes) {
  test::fake_opendota fake;
  fake.set_detail_size(1000);
  // Slow enough that the job is still running when serve is killed: four
  // details are fetched at a time.
  fake.set_latency(60);
  auto url = test::fresh_database("serve_kill9");
  const std::int64_t account = 300;
  auto id = pending_job(url, account, job_type::full_sync);
  {
    auto first = start_serve(serve_env(url, fake.url(), "node-1"));
    BOOST_REQUIRE(test::wait_until([&] { return row(url, id).processed_matches >= 20; }, 60s));
    first->signal(SIGKILL);
    first->wait_exit(10s);
  }
  auto orphan = row(url, id);
  BOOST_TEST(orphan.status == job_status::running);
  BOOST_TEST(*orphan.node == "node-1");

  auto second = start_serve(serve_env(url, fake.url(), "node-2"));
  BOOST_REQUIRE(test::wait_until([&] { return is_terminal(row(url, id).status); }, 90s));
  auto done = row(url, id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(*done.node == "node-2");
  BOOST_TEST(done.attempt == 2);
  BOOST_TEST(stored_with_details(url, account) == account);
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  BOOST_TEST(tx.exec1("SELECT count(*) FROM sync_jobs WHERE status = 'running'")[0]
               .as<int>() == 0);
  second->signal(SIGTERM);
  BOOST_TEST(second->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_CASE(sigterm_leaves_a_running_job_resumable_not_failed) {
  test::fake_opendota fake;
  fake.set_detail_size(500);
  fake.set_latency(60);  // still running at SIGTERM (four details at a time)
  auto url = test::fresh_database("serve_sigterm");
  const std::int64_t account = 200;
  auto id = pending_job(url, account, job_type::full_sync);
  {
    auto first = start_serve(serve_env(url, fake.url(), "node-1"));
    BOOST_REQUIRE(test::wait_until([&] { return row(url, id).processed_matches >= 10; }, 60s));
    first->signal(SIGTERM);
    BOOST_TEST(first->wait_exit(20s) == 0);
  }
  BOOST_TEST(row(url, id).status == job_status::running);
  auto second = start_serve(serve_env(url, fake.url(), "node-2"));
  BOOST_REQUIRE(test::wait_until([&] { return is_terminal(row(url, id).status); }, 60s));
  BOOST_TEST(row(url, id).status == job_status::completed);
  BOOST_TEST(stored_with_details(url, account) == account);
}

BOOST_AUTO_TEST_CASE(a_database_outage_mid_sync_is_survived_and_reported_by_ready) {
  private_cluster pg;
  test::fake_opendota fake;
  fake.set_detail_size(500);
  fake.set_latency(20);
  const std::int64_t account = 250;
  auto id = pending_job(pg.url, account, job_type::full_sync);
  auto serve = start_serve(serve_env(pg.url, fake.url(), "node-1"));
  int port = http_port(*serve);
  BOOST_REQUIRE(test::wait_until([&] { return row(pg.url, id).processed_matches >= 10; }, 60s));
  BOOST_TEST(ready_status(port) == 200);

  BOOST_REQUIRE(pg.pg_ctl("stop") == 0);
  // The reason is serve's own probe's, not one a test wrote.
  ready_answer down;
  BOOST_TEST(test::wait_until([&] { return (down = ready(port)).status == 503; }, 20s));
  BOOST_TEST(down.detail.rfind("database unavailable", 0) == 0, "ready said: " << down.detail);
  std::this_thread::sleep_for(5s);  // the outage the contract asks us to survive
  BOOST_TEST(serve->running());
  BOOST_REQUIRE(pg.pg_ctl("start") == 0);

  BOOST_TEST(test::wait_until([&] { return ready_status(port) == 200; }, 30s));
  BOOST_REQUIRE(test::wait_until([&] { return is_terminal(row(pg.url, id).status); }, 90s));
  // Survived: a job fails on an outage only past a minute (SPEC §4: a
  // database outage is retried with backoff), so 5 s end in completed.
  auto done = row(pg.url, id);
  BOOST_TEST(done.status == job_status::completed);
  BOOST_TEST(done.error_message.value_or("") == "");
  BOOST_TEST(stored_with_details(pg.url, account) == account);
  BOOST_TEST(serve->running());

  // A schema that falls behind while serve runs (a migration recorded by
  // another node's binary is gone here) is named by the same probe.
  {
    pqxx::connection c(pg.url);
    pqxx::nontransaction tx(c);
    tx.exec("DELETE FROM schema_migrations WHERE name = (SELECT max(name) FROM schema_migrations)");
  }
  ready_answer behind;
  BOOST_TEST(test::wait_until([&] { return (behind = ready(port)).status == 503; }, 10s));
  // (The text a test once injected, "schema is outdated: run matchsync
  // migrate", is not what serve says.)
  BOOST_TEST(behind.detail.find("schema is not current") != std::string::npos, behind.detail);
  BOOST_TEST(behind.detail.find("matchsync migrate") != std::string::npos, behind.detail);
  serve->signal(SIGTERM);
  BOOST_TEST(serve->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// SPEC §2/§3: the cluster's daily quota, kept in the database. Jobs out of
// it wait (running, phase waiting_quota, resume_at) instead of failing, a
// restart keeps count and wait, the day's start resumes them, and a cancel
// during the wait answers at once.
BOOST_AUTO_TEST_SUITE(quota_wait)

namespace {
std::string iso_utc(std::time_t t) {
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return out;
}

std::string hh_mm(std::time_t t) {
  char out[8];
  std::strftime(out, sizeof out, "%H:%M", std::gmtime(&t));
  return out;
}

std::size_t api_requests(test::fake_opendota& fake) { return fake.log().size(); }

// A token for the account's user (made without one by pending_job).
std::string token_for(const std::string& url, std::int64_t account) {
  auto token = generate_token();
  pqxx::connection c(url);
  db::user_store(c).replace_token(account, hash_token(token));
  return token;
}

// GET /sync/jobs/{id} as the job's user.
nlohmann::json job_view(int port, std::int64_t id, const std::string& token) {
  httplib::Client cli("127.0.0.1", port);
  auto r = cli.Get(("/sync/jobs/" + std::to_string(id)).c_str(),
                   {{"Authorization", "Bearer " + token}});
  BOOST_REQUIRE(r);
  BOOST_REQUIRE_MESSAGE(r->status == 200, r->body);
  return nlohmann::json::parse(r->body);
}

// A gauge of GET /metrics ("+Inf" as infinity); NaN when it is missing.
double metric(int port, const std::string& name) {
  httplib::Client cli("127.0.0.1", port);
  auto r = cli.Get("/metrics");
  BOOST_REQUIRE(r && r->status == 200);
  std::smatch m;
  if (!std::regex_search(r->body, m, std::regex("(^|\\n)" + name + " (\\S+)")))
    return std::nan("");
  return m[2] == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(m[2]);
}
}  // namespace

BOOST_AUTO_TEST_CASE(two_jobs_stop_at_the_daily_limit_wait_through_a_restart_and_resume_at_the_day_start) {
  test::fake_opendota fake;
  fake.set_detail_size(300);
  // 2 x 30 matches: more than the day's 50 requests, and the rest (about
  // 12) well inside the next day's 50, whatever the timing of the cut.
  for (std::int64_t a : {40, 41})
    fake.set_history_size(a, 30);
  auto url = test::fresh_database("quota_wait_resume");
  // The upstream's day starts at the next minute but one: 60-120 s from now.
  auto now = std::time(nullptr);
  std::time_t day_start = (now / 60) * 60 + 120;
  auto env = serve_env(url, fake.url(), "node-1");
  env["MATCHSYNC_UPSTREAM_DAILY_LIMIT"] = "50";
  env["MATCHSYNC_UPSTREAM_DAY_START_UTC"] = hh_mm(day_start);
  auto a = pending_job(url, 40, job_type::full_sync);
  auto b = pending_job(url, 41, job_type::full_sync);
  std::map<std::int64_t, std::string> token{{a, token_for(url, 40)}, {b, token_for(url, 41)}};
  auto waiting = [&](std::int64_t id) {
    auto r = row(url, id);
    return r.status == job_status::running && r.resume_at.has_value();
  };
  // Both jobs usually share the day's 50 and both wait; on a loaded machine
  // one may start so late that the other completes on its own 31 requests
  // first. Either way every job not completed waits, and at least one does.
  std::vector<std::int64_t> waiters;
  auto settled = [&] {
    waiters.clear();
    for (auto id : {a, b}) {
      if (waiting(id))
        waiters.push_back(id);
      else if (row(url, id).status != job_status::completed)
        return false;
    }
    return !waiters.empty();
  };
  // What a user and an operator see of the wait (SPEC §4): each job running
  // in phase waiting_quota until the day's start, the day's quota all used.
  auto check_seen_waiting = [&](int port) {
    for (auto id : waiters) {
      auto job = job_view(port, id, token[id]);
      BOOST_TEST(job.at("status") == "running");
      BOOST_TEST(job.at("phase") == "waiting_quota");
      BOOST_TEST(job.at("resume_at") == iso_utc(day_start));
    }
    BOOST_TEST(metric(port, "matchsync_upstream_daily_quota_used") == 50);
    BOOST_TEST(metric(port, "matchsync_upstream_daily_quota_left") == 0);
  };
  {
    auto first = start_serve(env);
    BOOST_REQUIRE_MESSAGE(test::wait_until(settled, 60s), first->output());
    // Exactly the day's 50, from both jobs together.
    BOOST_TEST(api_requests(fake) == 50u);
    for (auto id : waiters)
      BOOST_TEST(*row(url, id).resume_at == iso_utc(day_start));
    check_seen_waiting(http_port(*first));
    first->signal(SIGTERM);
    BOOST_TEST(first->wait_exit(20s) == 0);
  }
  BOOST_REQUIRE(std::time(nullptr) < day_start - 5);  // the restart is mid-wait
  std::map<std::int64_t, std::int64_t> before;
  for (auto id : waiters)
    before[id] = row(url, id).attempt;
  auto second = start_serve(env);
  // Resumed by the new process (its lease ran out), and still waiting: the
  // count came back from the database, so not one request was made.
  BOOST_REQUIRE(test::wait_until(
    [&] {
      for (auto id : waiters)
        if (row(url, id).attempt <= before[id] || !waiting(id))
          return false;
      return true;
    },
    30s));
  BOOST_TEST(api_requests(fake) == 50u);
  BOOST_TEST(*row(url, waiters.front()).resume_at == iso_utc(day_start));
  check_seen_waiting(http_port(*second));
  // At the day's start both go on by themselves and complete.
  BOOST_REQUIRE_MESSAGE(
    test::wait_until(
      [&] { return is_terminal(row(url, a).status) && is_terminal(row(url, b).status); },
      std::chrono::seconds(day_start - std::time(nullptr) + 60)),
    "jobs " << to_string(row(url, a).status) << " " << row(url, a).processed_matches << ", "
            << to_string(row(url, b).status) << " " << row(url, b).processed_matches << "; "
            << api_requests(fake) << " requests; serve: " << second->output());
  BOOST_TEST(row(url, a).status == job_status::completed);
  BOOST_TEST(row(url, b).status == job_status::completed);
  BOOST_TEST(!row(url, a).resume_at.has_value());
  BOOST_TEST(stored_with_details(url, 40) == 30);
  BOOST_TEST(stored_with_details(url, 41) == 30);
  for (const auto& r : fake.log(50))
    BOOST_TEST(r.status != 429);
  // The new day's count: the requests made since it started.
  BOOST_TEST(metric(http_port(*second), "matchsync_upstream_daily_quota_used") ==
             static_cast<double>(api_requests(fake) - 50));
  BOOST_TEST(metric(http_port(*second), "matchsync_upstream_daily_quota_left") ==
             50.0 - static_cast<double>(api_requests(fake) - 50));
  second->signal(SIGTERM);
  BOOST_TEST(second->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_CASE(a_cancel_during_a_quota_wait_answers_at_once_and_no_request_follows) {
  test::fake_opendota fake;
  fake.set_history_size(42, 30);
  auto url = test::fresh_database("quota_wait_cancel");
  auto env = serve_env(url, fake.url(), "node-1");
  env["MATCHSYNC_UPSTREAM_DAILY_LIMIT"] = "5";
  // A day start far away: the wait lasts the whole test.
  env["MATCHSYNC_UPSTREAM_DAY_START_UTC"] = hh_mm(std::time(nullptr) + 6 * 3600);
  env["MATCHSYNC_AUTH"] = "none";
  env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = "42";
  auto serve = start_serve(env);
  httplib::Client cli("127.0.0.1", http_port(*serve));
  auto t = cli.Post("/sync/trigger", "{}", "application/json");
  BOOST_REQUIRE(t && t->status == 201);
  auto id = nlohmann::json::parse(t->body).at("id").get<std::int64_t>();
  BOOST_REQUIRE(test::wait_until([&] { return row(url, id).resume_at.has_value(); }, 30s));
  auto view = cli.Get("/sync/jobs/" + std::to_string(id));
  BOOST_REQUIRE(view && view->status == 200);
  auto job = nlohmann::json::parse(view->body);
  BOOST_TEST(job.at("status") == "running");
  BOOST_TEST(job.at("phase") == "waiting_quota");
  BOOST_TEST(job.at("resume_at") == *row(url, id).resume_at);
  BOOST_TEST(api_requests(fake) == 5u);

  auto asked = std::chrono::steady_clock::now();
  auto c = cli.Post("/sync/cancel/" + std::to_string(id), "", "application/json");
  auto took = std::chrono::steady_clock::now() - asked;
  BOOST_REQUIRE(c);
  BOOST_TEST(c->status == 200);
  BOOST_TEST(nlohmann::json::parse(c->body).at("status") == "cancelled");
  BOOST_TEST(nlohmann::json::parse(c->body).at("resume_at").is_null());
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 2000);
  BOOST_TEST(api_requests(fake) == 5u);
  serve->signal(SIGTERM);
  BOOST_TEST(serve->wait_exit(20s) == 0);
  BOOST_TEST(api_requests(fake) == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
