// Cluster trust in real processes (SPEC §3 "Cluster trust"): a real `serve`
// with its cluster port open, a hostile peer (hostile_peer.cpp) trying
// everything a stranger and a rogue insider could send, then checks that
// nothing got through and the service works on.
#define BOOST_TEST_MODULE cluster_trust
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <csignal>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/fault/tcp_proxy.hpp"
#include "test/http/api_harness.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::int64_t account = 999;
const std::string secret = "trust-s3cret-7f1c";

struct serve_node {
  explicit serve_node(const std::string& db, int slots = 2) : url(test::fresh_database(db)) {
    fake.set_detail_size(500);
    fake.set_history_size(account, 30);  // a sync takes a few seconds at 600/min
    start(slots, 0);
  }

  // Starts serve (again, on `port` when not 0: a restart on the same port).
  void start(int slots, int port) {
    proc = std::make_unique<test::child_process>(
      std::vector<std::string>{test::binary_path("app/matchsync"), "serve"},
      std::map<std::string, std::string>{{"MATCHSYNC_DATABASE_URL", url},
                                         {"MATCHSYNC_UPSTREAM_URL", fake.url()},
                                         {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", "600"},
                                         {"MATCHSYNC_UPSTREAM_PAGE_SIZE", "20"},
                                         {"MATCHSYNC_HTTP_PORT", "0"},
                                         {"MATCHSYNC_CLUSTER_PORT", std::to_string(port)},
                                         {"MATCHSYNC_CLUSTER_SECRET", secret},
                                         {"MATCHSYNC_SLOTS", std::to_string(slots)},
                                         {"MATCHSYNC_AUTH", "none"},
                                         {"MATCHSYNC_DEFAULT_ACCOUNT_ID", std::to_string(account)},
                                         {"MATCHSYNC_NODE_ID", "coord"}});
    BOOST_REQUIRE_MESSAGE(proc->wait_for_output("listening url=", 30s), proc->output());
    auto out = proc->output();
    std::smatch m;
    BOOST_REQUIRE(std::regex_search(out, m, std::regex("127\\.0\\.0\\.1:(\\d+)/")));
    http_port = std::stoi(m[1]);
    BOOST_REQUIRE(std::regex_search(out, m, std::regex("cluster listening.*port=(\\d+)")));
    cluster_port = std::stoi(m[1]);
  }

  int status(const std::string& path) {
    httplib::Client cli("127.0.0.1", http_port);
    auto r = cli.Get(path);
    return r ? r->status : 0;
  }

  json get(const std::string& path) {
    httplib::Client cli("127.0.0.1", http_port);
    auto r = cli.Get(path);
    if (!r || r->status != 200)
      return nullptr;
    return json::parse(r->body, nullptr, false);
  }

  // Triggers a sync and waits for its end; returns its final row.
  json sync_to_the_end() {
    httplib::Client cli("127.0.0.1", http_port);
    auto r = cli.Post("/sync/trigger", "{}", "application/json");
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_MESSAGE(r->status == 201, r->body);
    auto id = json::parse(r->body)["id"].get<std::int64_t>();
    json row;
    BOOST_REQUIRE(test::wait_until(
      [&] {
        row = get("/sync/jobs/" + std::to_string(id));
        return row.is_object() && row["status"] != "pending" && row["status"] != "running";
      },
      60s));
    return row;
  }

  std::int64_t job_count() {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    return tx.exec1("SELECT count(*) FROM sync_jobs")[0].as<std::int64_t>();
  }

  test::fake_opendota fake;
  std::string url;
  std::unique_ptr<test::child_process> proc;
  int http_port = 0;
  int cluster_port = 0;
};

// The hostile peer's outcomes, by attempt name.
std::map<std::string, std::string> results_of(const std::string& out) {
  std::map<std::string, std::string> r;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string tag, name, outcome;
    if (l >> tag >> name >> outcome && tag == "RESULT")
      r[name] = outcome;
  }
  return r;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_trust)

BOOST_AUTO_TEST_CASE(nothing_a_hostile_peer_sends_gets_through_and_serve_works_on) {
  serve_node s("cluster_trust");
  auto first = s.sync_to_the_end();
  BOOST_REQUIRE(first["status"] == "completed");
  auto job = first["id"].get<std::int64_t>();
  std::int64_t user;
  {
    pqxx::connection c(s.url);
    user = db::user_store(c).ensure(account).id;
  }
  auto jobs_before = s.job_count();
  test::event_client events(s.http_port, "");
  BOOST_REQUIRE(events.wait_for_text(": keepalive", 10s));

  test::child_process hostile({test::binary_path("test/cluster/hostile_peer"), "--port",
                               std::to_string(s.cluster_port), "--secret", secret, "--job",
                               std::to_string(job), "--user", std::to_string(user)});
  BOOST_REQUIRE_MESSAGE(hostile.wait_exit(60s) == 0, hostile.output());
  auto out = hostile.output();
  BOOST_TEST_MESSAGE(out);
  BOOST_REQUIRE(out.find("DONE") != std::string::npos);

  // Every attempt refused; the one real join (0 slots) admitted.
  auto results = results_of(out);
  const std::set<std::string> expected{
    "shutdown", "trigger", "cancel", "progress", "finished", "released", "budget",
    "join_wrong_secret", "join_null_agent", "join_gatekeeper_as_agent", "real_join",
    "join_replayed", "join_replayed_proof_on_fresh_nonce", "join_session_as_agent",
    "session_trigger", "session_cancel", "session_cancel_as_coordinator", "session_shutdown",
    "session_run", "session_progress_without_token", "session_progress_wrong_token",
    "session_progress", "session_finished", "session_released",
    "session_jobwait", "session_budget", "session_budget_for_job", "session_hold"};
  std::set<std::string> seen;
  std::size_t refused = 0;
  for (auto& [name, outcome] : results) {
    seen.insert(name);
    if (name == "real_join") {
      BOOST_TEST(outcome == "accepted");
      continue;
    }
    BOOST_TEST(outcome == "refused", name << ": " << outcome);
    refused += outcome == "refused";
  }
  BOOST_TEST(seen == expected);

  // Each refusal logged in one line, none with the secret or a proof.
  auto log = s.proc->output();
  BOOST_TEST(count_of(log, "cluster message refused") == refused);
  BOOST_TEST(log.find(secret) == std::string::npos);
  std::smatch rec;
  BOOST_REQUIRE(std::regex_search(out, rec, std::regex("RECORDED ([0-9a-f]+) ([0-9a-f]+)")));
  BOOST_TEST(log.find(rec[2].str()) == std::string::npos);  // the recorded proof
  // Refused for the reason each attempt was built to hit.
  BOOST_TEST(count_of(log, "at=gatekeeper message=") == 13u);
  BOOST_TEST(count_of(log, "reason=wrong cluster secret") == 2u);
  BOOST_TEST(count_of(log, "reason=null agent") == 1u);
  BOOST_TEST(count_of(log, "reason=agent is an actor of the coordinator's process") == 2u);
  BOOST_TEST(count_of(log, "reason=unknown or used nonce") == 1u);
  BOOST_TEST(count_of(log, "reason=not from the coordinator") == 2u);
  BOOST_TEST(count_of(log, "reason=job not owned by this node") == 4u);
  BOOST_TEST(count_of(log, "reason=budget asked by a node without jobs") == 1u);
  BOOST_TEST(count_of(log, "reason=budget asked for a job not owned by this node") == 1u);
  BOOST_TEST(count_of(log, "reason=wrong session token") == 1u);
  BOOST_TEST(count_of(log, "reason=spent minute told by a node without jobs") == 1u);
  BOOST_TEST(log.find(rec[1].str()) == std::string::npos);  // nor a nonce

  // serve alive and ready; the rogue node gone with its process.
  BOOST_TEST(s.proc->running());
  BOOST_TEST(s.status("/health") == 200);
  BOOST_TEST(s.status("/ready") == 200);
  BOOST_TEST(test::wait_until(
    [&] {
      auto w = s.get("/workers");
      return w.is_array() && w.size() == 1 && w[0]["node"] == "coord";
    },
    10s));

  // No job forged, the old one untouched.
  BOOST_TEST(s.job_count() == jobs_before);
  auto again = s.get("/sync/jobs/" + std::to_string(job));
  BOOST_TEST(again == first);

  // A user's sync completes, and the event stream carried nothing before it:
  // the bus is one ordered stream, so a forged event would have come first.
  auto next = s.sync_to_the_end();
  BOOST_TEST(next["status"] == "completed");
  BOOST_TEST(next["node"] == "coord");
  auto next_id = next["id"].get<std::int64_t>();
  BOOST_REQUIRE(events.wait_for(
    [&](auto& ev) {
      for (auto& e : ev)
        if (e.data.is_object() && e.data.value("id", std::int64_t{0}) == next_id &&
            e.data["status"] == "completed")
          return true;
      return false;
    },
    10s));
  auto ev = events.events();
  BOOST_REQUIRE(!ev.empty());
  for (auto& e : ev) {
    BOOST_TEST(e.type == "job");
    BOOST_TEST(e.data.value("id", std::int64_t{0}) == next_id, e.data.dump());
  }
}

BOOST_AUTO_TEST_CASE(the_secret_never_crosses_the_wire_and_a_worker_runs_jobs_all_the_same) {
  serve_node s("cluster_trust_wire", 0);  // every job runs on the worker
  test::fault::tcp_proxy path(s.cluster_port, true);
  auto env = std::map<std::string, std::string>{
    {"MATCHSYNC_DATABASE_URL", s.url},   {"MATCHSYNC_UPSTREAM_URL", s.fake.url()},
    {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", "600"}, {"MATCHSYNC_UPSTREAM_PAGE_SIZE", "20"},
    {"MATCHSYNC_CLUSTER_SECRET", secret}, {"MATCHSYNC_SLOTS", "2"},
    {"MATCHSYNC_NODE_ID", "w1"}};
  test::child_process worker({test::binary_path("app/matchsync"), "worker", "--coordinator",
                              "127.0.0.1:" + std::to_string(path.port())},
                             env);
  BOOST_REQUIRE(test::wait_until(
    [&] {
      auto w = s.get("/workers");
      return w.is_array() && w.size() == 2;
    },
    30s));
  auto done = s.sync_to_the_end();
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(done["node"] == "w1");
  auto wire = path.relayed();
  BOOST_TEST(wire.size() > 1000u);  // the join, the job and its progress went this way
  BOOST_TEST(wire.find("w1") != std::string::npos);
  BOOST_TEST(wire.find(secret) == std::string::npos);
  BOOST_TEST(worker.output().find(secret) == std::string::npos);
  BOOST_TEST(s.proc->output().find(secret) == std::string::npos);
}

// A graceful stop of serve ends its gatekeeper before the process: a worker
// joining again in that moment gets a broken link, not a refusal, and
// must go on trying rather than exit.
BOOST_AUTO_TEST_CASE(a_worker_joins_again_after_a_graceful_restart_of_serve) {
  serve_node s("cluster_trust_restart", 0);
  auto port = s.cluster_port;
  test::child_process worker(
    {test::binary_path("app/matchsync"), "worker", "--coordinator",
     "127.0.0.1:" + std::to_string(port)},
    {{"MATCHSYNC_DATABASE_URL", s.url}, {"MATCHSYNC_UPSTREAM_URL", s.fake.url()},
     {"MATCHSYNC_CLUSTER_SECRET", secret}, {"MATCHSYNC_NODE_ID", "w1"}});
  BOOST_REQUIRE(worker.wait_for_output("joined the coordinator", 30s));
  for (int round = 0; round < 3; ++round) {
    s.proc->signal(SIGTERM);
    BOOST_REQUIRE(s.proc->wait_exit(30s) == 0);
    s.start(0, port);
    BOOST_REQUIRE_MESSAGE(test::wait_until(
                            [&] {
                              auto w = s.get("/workers");
                              return !worker.running() || (w.is_array() && w.size() == 2);
                            },
                            30s),
                          worker.output());
    BOOST_REQUIRE_MESSAGE(worker.running(), worker.output());
  }
  auto done = s.sync_to_the_end();
  BOOST_TEST(done["status"] == "completed");
  BOOST_TEST(done["node"] == "w1");
}

BOOST_AUTO_TEST_SUITE_END()
