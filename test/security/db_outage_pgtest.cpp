// The front door while the database goes away, against the real
// `matchsync serve`: after a PostgreSQL restart every read answers from the
// first 200 of /ready on (connections that died are replaced, not reported),
// and behind a path that drops the database's packets /ready still answers
// 503 within a second while /health answers 200.
#define BOOST_TEST_MODULE db_outage
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <memory>
#include <mutex>
#include <regex>
#include <thread>

#include <pqxx/pqxx>

#include "test/fake_opendota/fake_server.hpp"
#include "test/fault/fault_harness.hpp"
#include "test/fault/tcp_proxy.hpp"
#include "test/security/raw_http.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"
#include "test/support/sanitizer.hpp"

using namespace matchsync::test;
using namespace matchsync::test::fault;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct answer_log {
  steady::time_point sent;
  std::string path;
  int status;
};

// A fresh database of the shared cluster, and its URL over TCP through a
// relay the test can freeze.
struct relayed {
  std::string direct;
  std::unique_ptr<tcp_proxy> proxy;
  std::string url;
};
relayed relayed_database(const std::string& name) {
  relayed r;
  r.direct = fresh_database(name);
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(r.direct, m, std::regex(R"(port=(\d+))")));
  r.proxy = std::make_unique<tcp_proxy>(std::stoi(m[1]));
  r.url = "postgresql://postgres@127.0.0.1:" + std::to_string(r.proxy->port()) + "/" + name;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(db_outage)

BOOST_AUTO_TEST_CASE(every_read_answers_from_the_first_ready_on_after_a_postgres_restart) {
  private_cluster pg("front_door_restart");
  fake_opendota fake;
  fake.set_detail_size(300);
  fake.set_latency(3);
  const std::int64_t account = 7601;
  fake.set_history_size(account, 600);
  auto token = user_token(pg.url(), account);
  auto env = node_env(pg.url(), fake.url(), "outage-node");
  env["MATCHSYNC_AUTH"] = "token";
  auto serve = start_serve(env);
  auto port = serve.http_port;

  auto trigger = http_post(port, "/sync/trigger", R"({"job_type":"full_sync"})", token);
  BOOST_REQUIRE_EQUAL(trigger.status, 201);
  auto job = trigger.body.at("id").get<std::int64_t>();
  const std::string job_path = "/sync/jobs/" + std::to_string(job);
  BOOST_REQUIRE(wait_until(
    [&] { return http_get(port, job_path, token).body.value("processed_matches", 0) >= 30; },
    60s));

  // Eight readers walk every read route: before the outage (so that the
  // server's read connections are open, then idle across it) and from the
  // first 200 of /ready on.
  const std::vector<std::string> routes{"/sync/status", "/sync/jobs", job_path,
                                        "/matches?limit=5", "/stats/summary", "/workers"};
  std::mutex mutex;
  std::vector<answer_log> answers;
  auto read_round = [&](int rounds) {
    std::vector<std::thread> readers;
    for (int r = 0; r < 8; ++r)
      readers.emplace_back([&, r] {
        for (std::size_t i = 0; i < routes.size() * static_cast<std::size_t>(rounds); ++i) {
          auto& path = routes[(i + static_cast<std::size_t>(r)) % routes.size()];
          auto sent = steady::now();
          auto a = http_get(port, path, token);
          std::lock_guard<std::mutex> guard(mutex);
          answers.push_back({sent, path, a.status});
        }
      });
    for (auto& t : readers)
      t.join();
  };
  read_round(2);

  BOOST_REQUIRE(pg.stop("fast"));
  BOOST_TEST(wait_until([&] { return http_get(port, "/ready").status == 503; }, 10s));
  std::this_thread::sleep_for(5s);  // the outage itself, not a synchronisation
  BOOST_REQUIRE(pg.start());
  steady::time_point ready_at{};
  BOOST_REQUIRE(wait_until(
    [&] {
      auto asked = steady::now();
      if (http_get(port, "/ready").status != 200)
        return false;
      ready_at = asked;
      return true;
    },
    30s));
  read_round(5);

  std::size_t checked = 0, failed = 0, before = 0;
  for (auto& a : answers) {
    if (a.sent <= ready_at) {
      before += a.status == 200;
      continue;
    }
    ++checked;
    if (a.status != 200) {
      ++failed;
      BOOST_TEST_MESSAGE(a.path << " answered " << a.status << " after /ready said 200");
    }
  }
  BOOST_TEST_MESSAGE(checked << " reads after the first 200 of /ready; " << before
                             << " answered 200 before the outage");
  BOOST_TEST(failed == 0u);
  BOOST_TEST(checked > 0u);

  BOOST_REQUIRE(wait_terminal(pg.url(), {job}, 120s));
  auto row = job_row(pg.url(), job);
  auto status = row.value("status", "");
  BOOST_TEST((status == "completed" || (status == "failed" && row.contains("error_message") &&
                                        !row["error_message"].is_null())),
             row.dump());
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_CASE(ready_answers_503_within_a_second_when_the_databases_packets_vanish) {
  auto db = relayed_database("db_outage_dropped");
  auto& proxy = *db.proxy;
  fake_opendota fake;
  auto env = node_env(db.url, fake.url(), "dropped-node");
  env["MATCHSYNC_AUTH"] = "none";
  env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = "7602";
  auto serve = start_serve(env);
  auto port = serve.http_port;
  BOOST_REQUIRE(wait_until([&] { return http_get(port, "/ready").status == 200; }, 10s));

  proxy.freeze(true);
  // Again and again: the first ask meets a query stuck on a live connection,
  // the later ones a probe still waiting for it.
  for (int i = 0; i < 4; ++i) {
    auto t0 = steady::now();
    auto ready = http_get(port, "/ready");
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
    BOOST_TEST(ready.status == 503);
    // SPEC §4: within 1 s. The probe itself gives up after 800 ms
    // (readiness_probe.hpp); the other 200 ms are the HTTP exchange, which
    // is what a sanitizer slows (the plain build checks the SPEC's second).
    BOOST_TEST(took.count() < 800 + 200 * sanitizer_slowdown,
               "/ready took " << took.count() << " ms");
    BOOST_TEST(http_get(port, "/health").status == 200);
  }
  proxy.freeze(false);
  BOOST_TEST(wait_until([&] { return http_get(port, "/ready").status == 200; }, 30s));
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}

// A database that cannot be reached yet when serve and a worker start (after
// a power cut both start at once; a loaded server can take longer than the
// 3 s connect timeout to accept, which made three workers of one CI run exit
// "timeout expired"): each waits for it, then runs (SPEC §3: an outage is
// retried, the service stays up). Before, each exited at its first
// connect's timeout. A stop while waiting ends serve at once, with 0.
BOOST_AUTO_TEST_CASE(serve_and_a_worker_started_before_their_database_is_reachable_wait_for_it) {
  auto db = relayed_database("db_outage_late_start");
  auto& proxy = *db.proxy;
  auto late_url = db.url;
  fake_opendota fake;
  // The coordinator reaches the database directly.
  auto coord_env = node_env(db.direct, fake.url(), "on-time-coord");
  coord_env["MATCHSYNC_AUTH"] = "none";
  coord_env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = "7603";
  coord_env["MATCHSYNC_CLUSTER_SECRET"] = "late-s3cret";
  auto coordinator = start_serve(coord_env);
  BOOST_REQUIRE(coordinator.cluster_port > 0);

  proxy.freeze(true);  // connects through it hang until libpq's timeout
  auto worker_env = node_env(late_url, fake.url(), "late-worker");
  worker_env["MATCHSYNC_CLUSTER_SECRET"] = "late-s3cret";
  auto worker = start_worker(worker_env, coordinator.cluster_port);
  auto serve_env = node_env(late_url, fake.url(), "late-serve");
  serve_env["MATCHSYNC_AUTH"] = "none";
  serve_env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = "7603";
  child_process serve({binary_path("app/matchsync"), "serve"}, serve_env);
  child_process stopped({binary_path("app/matchsync"), "serve"}, serve_env);
  // Each has met the timeout at least once and waits on.
  for (auto* p : {worker.get(), &serve, &stopped}) {
    bool waits = p->wait_for_output("waiting for the database", 30s);
    // Read first: passed straight to the macro, output() printed nothing
    // (seen here and in fault_pgtest's "workers did not join").
    auto out = p->output();
    BOOST_REQUIRE_MESSAGE(waits, p->log_path() << ":\n" << out);
  }
  BOOST_TEST(worker->running(), worker->output());
  BOOST_TEST(serve.running(), serve.output());

  // A stop while waiting: serve ends at once, as a stop, not a failure.
  stopped.signal(SIGTERM);
  BOOST_TEST(stopped.wait_exit(10s) == 0, stopped.output());
  BOOST_TEST(stopped.output().find("listening url=") == std::string::npos);

  proxy.freeze(false);
  BOOST_REQUIRE_MESSAGE(serve.wait_for_output("listening url=", 60s), serve.output());
  auto out = serve.output();
  std::smatch pm;
  BOOST_REQUIRE(std::regex_search(out, pm, std::regex(R"(listening url=http://[^:]+:(\d+)/)")));
  auto port = std::stoi(pm[1]);
  BOOST_TEST(wait_until([&] { return http_get(port, "/ready").status == 200; }, 30s));
  BOOST_TEST(wait_until(
    [&] {
      auto w = http_get(coordinator.http_port, "/workers");
      return w.body.dump().find("late-worker") != std::string::npos;
    },
    60s), worker->output());
  for (auto* p : {worker.get(), &serve, coordinator.process.get()})
    p->signal(SIGTERM);
  BOOST_TEST(worker->wait_exit(20s) == 0, worker->output());
  BOOST_TEST(serve.wait_exit(20s) == 0, serve.output());
  BOOST_TEST(coordinator.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
