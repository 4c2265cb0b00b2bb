// Every endpoint of SPEC §4 answered by the real server: a real runtime,
// PostgreSQL and the fake OpenDota behind it. One node serves the whole
// suite; each case makes its own users (account N has N % 1000 matches).
#define BOOST_TEST_MODULE http_api
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "persistence/database.hpp"
#include "test/http/api_harness.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace matchsync::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct node_fixture {
  node_fixture() {
    api_harness::options o;
    o.database = "http_api";
    instance = new api_harness(o);
  }
  ~node_fixture() { delete instance; }
  static api_harness* instance;
};
api_harness* node_fixture::instance = nullptr;

api_harness& node() { return *node_fixture::instance; }
client anonymous() { return client(node().port()); }
client as(const test_user& u) { return client(node().port(), u.token); }

json detail(const std::string& d) { return json{{"detail", d}}; }

std::int64_t trigger_id(const test_user& u, const std::string& body = "") {
  auto r = as(u).post("/sync/trigger", body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, "trigger answered " << r.status << " " << r.body);
  return r.json()["id"].get<std::int64_t>();
}

// A job that stays running for a long while: 999 matches at 25 ms each.
std::int64_t long_account(int n) { return 10000 * n + 999; }

void wait_running(const test_user& u, std::int64_t id) {
  BOOST_REQUIRE(wait_until(
    [&] { return as(u).get("/sync/jobs/" + std::to_string(id)).json()["status"] == "running"; },
    10s));
}

// Terminal jobs written directly, for list tests that need many rows.
void insert_finished_jobs(const test_user& u, int n) {
  pqxx::connection c(node().cfg().database_url);
  pqxx::work tx(c);
  for (int i = 0; i < n; ++i)
    tx.exec_params(
      "INSERT INTO sync_jobs (user_id, account_id, job_type, status, completed_at) "
      "VALUES ($1, $2, 'full_sync', 'completed', now())",
      u.id, u.account_id);
  tx.commit();
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(node_fixture);

BOOST_AUTO_TEST_SUITE(ops)

BOOST_AUTO_TEST_CASE(health_answers_200_without_a_token) {
  auto r = anonymous().get("/health");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.json() == (json{{"status", "ok"}}));
}

// The 503 and its reasons come from serve's own probe: serve_process_pgtest
// (database outage, schema behind) checks them on the real binary.
BOOST_AUTO_TEST_CASE(ready_answers_200_when_ready) {
  auto r = anonymous().get("/ready");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.json() == (json{{"status", "ready"}}));
}

BOOST_AUTO_TEST_CASE(public_routes_answer_without_a_token) {
  for (auto path : {"/health", "/ready", "/metrics", "/openapi.json", "/", "/app.js"})
    BOOST_TEST(anonymous().get(path).status == 200, path);
}

BOOST_AUTO_TEST_CASE(metrics_count_jobs_by_type_and_status_and_requests_by_route_pattern) {
  auto u = node().add_user(1003);
  auto id = trigger_id(u);
  BOOST_TEST(node().wait_terminal(u, id, 30s)["status"] == "completed");
  as(u).get("/sync/jobs/" + std::to_string(id));
  pqxx::connection c(node().cfg().database_url);
  pqxx::nontransaction tx(c);
  auto completed = tx.exec1("SELECT count(*) FROM sync_jobs WHERE status = 'completed' "
                            "AND job_type = 'incremental_sync'")[0].as<long>();
  auto r = anonymous().get("/metrics");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  std::smatch m;
  std::regex series(R"re(matchsync_jobs\{status="completed",type="incremental_sync"\} (\d+))re");
  BOOST_REQUIRE(std::regex_search(r.body, m, series));
  BOOST_TEST(std::stol(m[1]) == completed);
  BOOST_TEST(r.body.find(R"(matchsync_jobs{status="cancelled",type="full_sync"})") !=
             std::string::npos);
  BOOST_TEST(r.body.find(R"(route="/sync/jobs/{job_id}")") != std::string::npos);
  BOOST_TEST(r.body.find("route=\"/sync/jobs/" + std::to_string(id) + "\"") == std::string::npos);
  BOOST_TEST(r.body.find("matchsync_http_request_duration_seconds") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(workers_lists_this_node_with_its_running_jobs) {
  auto u = node().add_user(long_account(1));
  auto id = trigger_id(u);
  wait_running(u, id);
  // The row says running a moment before the coordinator has handed the
  // job to its node (one message later): wait for the list to show it.
  auto lists_job = [&] {
    auto w = as(u).get("/workers").json();
    if (!w.is_array() || w.empty())
      return false;
    auto running = w[0]["running_jobs"];
    return std::find(running.begin(), running.end(), json(id)) != running.end();
  };
  BOOST_TEST(wait_until(lists_job, 10s));
  auto r = as(u).get("/workers");
  BOOST_TEST(r.status == 200);
  auto w = r.json();
  BOOST_REQUIRE(w.is_array());
  BOOST_REQUIRE(w.size() == 1u);
  auto& self = w[0];
  BOOST_TEST(self["node"] == "http-test-node");
  BOOST_TEST(self["slots"] == 8);
  BOOST_TEST(self["local"] == true);
  BOOST_TEST(self["host"].is_string());
  BOOST_TEST(std::regex_match(self["connected_at"].get<std::string>(),
                              std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  BOOST_TEST(std::regex_match(self["last_seen"].get<std::string>(),
                              std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  auto running = self["running_jobs"];
  BOOST_TEST((std::find(running.begin(), running.end(), json(id)) != running.end()));
  node().cancel_active(u);
}

BOOST_AUTO_TEST_CASE(openapi_json_is_served_as_json) {
  auto r = anonymous().get("/openapi.json");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.is_json());
  BOOST_TEST(r.json()["paths"].contains("/sync/trigger"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(routing_and_auth)

BOOST_AUTO_TEST_CASE(every_non_public_route_refuses_a_request_without_a_valid_token) {
  int checked = 0;
  for (auto& r : node().node().server().routes()) {
    if (!r.needs_auth)
      continue;
    auto path = std::regex_replace(r.openapi_path, std::regex(R"(\{[a-z_]+\})"), "1");
    auto none = anonymous().send(r.method, path, {});
    BOOST_TEST(none.status == 401, r.method << " " << path);
    BOOST_TEST(none.json() == detail("Not authenticated"), r.method << " " << path);
    BOOST_TEST(none.header("www-authenticate") == "Bearer");
    auto wrong = client(node().port(), "not-a-token").send(r.method, path, {});
    BOOST_TEST(wrong.status == 401, r.method << " " << path);
    BOOST_TEST(wrong.json() == detail("Invalid token"));
    auto basic = anonymous().send(r.method, path, {{"Authorization", "Basic dTpw"}});
    BOOST_TEST(basic.status == 401);
    ++checked;
  }
  BOOST_TEST(checked == 12);  // GET and PUT /sync/schedule among them
}

BOOST_AUTO_TEST_CASE(an_unknown_route_is_404_json_with_or_without_a_token) {
  auto u = node().add_user(1004);
  for (auto path : {"/nope", "/sync", "/sync/jobs/1/extra", "/api/sync/status", "/matches/1/x"}) {
    for (auto c : {anonymous(), as(u)}) {
      auto r = c.get(path);
      BOOST_TEST(r.status == 404, path);
      BOOST_TEST(r.json() == detail("Not Found"), path);
      BOOST_TEST(r.header("content-type") == "application/json");
    }
  }
  BOOST_TEST(as(u).post("/nope", "{}").status == 404);
}

BOOST_AUTO_TEST_CASE(a_known_route_with_another_method_is_405_json_naming_the_allowed_one) {
  auto u = node().add_user(1005);
  struct probe {
    const char* method;
    const char* path;
    const char* allow;
  };
  for (auto p : {probe{"DELETE", "/sync/trigger", "POST"}, probe{"GET", "/sync/trigger", "POST"},
                 probe{"POST", "/sync/status", "GET"}, probe{"PUT", "/sync/jobs/1", "GET"},
                 probe{"GET", "/sync/cancel/1", "POST"}, probe{"PATCH", "/matches", "GET"},
                 probe{"POST", "/health", "GET"}}) {
    for (auto c : {anonymous(), as(u)}) {
      auto r = c.send(p.method, p.path, {}, "", "");
      BOOST_TEST(r.status == 405, p.method << " " << p.path);
      BOOST_TEST(r.json() == detail("Method Not Allowed"));
      BOOST_TEST(r.header("allow") == p.allow);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_body_over_64_kib_is_413_json_and_64_kib_is_accepted) {
  auto u = node().add_user(1006);
  std::string prefix = R"({"job_type":"full_sync","pad":")", suffix = "\"}";
  std::string fits = prefix + std::string(64 * 1024 - prefix.size() - suffix.size(), 'x') + suffix;
  BOOST_REQUIRE(fits.size() == 64u * 1024u);
  auto over = as(u).post("/sync/trigger", fits + " ");
  BOOST_TEST(over.status == 413);
  BOOST_TEST(over.json() == detail("Request body too large"));
  auto big = as(u).post("/sync/trigger", std::string(1 << 20, '['));
  BOOST_TEST(big.status == 413);
  auto ok = as(u).post("/sync/trigger", fits);
  BOOST_TEST(ok.status == 201);
  BOOST_TEST(ok.json()["job_type"] == "full_sync");
  BOOST_TEST(node().wait_terminal(u, ok.json()["id"].get<std::int64_t>(), 30s)["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(the_dashboard_is_served_at_the_root_and_paths_cannot_leave_its_folder) {
  auto root = anonymous().get("/");
  BOOST_TEST(root.status == 200);
  BOOST_TEST(root.header("content-type").find("text/html") == 0);
  BOOST_TEST(root.body.find("<html") != std::string::npos);
  for (auto path : {"/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/..%2fCMakeLists.txt",
                    "/%2e%2e%2fhttp%2fserver.cpp", "/app.js/../../CMakeLists.txt",
                    "/....//CMakeLists.txt", "/%2e%2e/%2e%2e/etc/passwd"}) {
    auto r = raw_exchange(node().port(), std::string("GET ") + path +
                                           " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    BOOST_TEST((r.status == 404 || r.status == 400), path << " answered " << r.status);
    BOOST_TEST(r.is_json(), path);
    BOOST_TEST(r.body.find("cmake_minimum_required") == std::string::npos);
    BOOST_TEST(r.body.find("root:") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(with_auth_none_requests_act_as_the_default_account_without_a_token) {
  auto cfg = node().node_config();
  cfg.auth = "none";
  cfg.default_account_id = 1007;
  running_server open(cfg, node().node_services(10s));
  client c(open.port());
  BOOST_TEST(c.get("/sync/status").json() == (json{{"is_syncing", false}, {"active_job", nullptr}}));
  // With auth none a POST must say JSON (SPEC §4), even with an empty body.
  auto r = c.post("/sync/trigger", "{}");
  BOOST_TEST(r.status == 201);
  BOOST_TEST(r.json()["account_id"] == 1007);
  // The default user is an ordinary user: the same job under token auth.
  pqxx::connection conn(node().cfg().database_url);
  pqxx::nontransaction tx(conn);
  auto owner = tx.exec_params1("SELECT u.account_id FROM sync_jobs j JOIN users u "
                               "ON u.id = j.user_id WHERE j.id = $1",
                               r.json()["id"].get<std::int64_t>())[0].as<long>();
  BOOST_TEST(owner == 1007);
  BOOST_TEST(wait_until([&] { return c.get("/sync/status").json()["is_syncing"] == false; }, 30s));
}

BOOST_AUTO_TEST_CASE(without_a_job_core_trigger_cancel_and_events_answer_503) {
  auto u = node().add_user(1008);
  auto svc = node().node_services(10s);
  svc.jobs = nullptr;
  running_server bare(node().node_config(), svc);
  client c(bare.port(), u.token);
  auto unavailable = detail("Sync jobs are not available on this node");
  for (auto r : {c.post("/sync/trigger"), c.post("/sync/cancel/1"), c.get("/sync/events")}) {
    BOOST_TEST(r.status == 503);
    BOOST_TEST(r.json() == unavailable);
  }
  // Body validation still comes first.
  BOOST_TEST(c.post("/sync/trigger", "[]").status == 422);
  BOOST_TEST(c.get("/sync/status").status == 200);
}

BOOST_AUTO_TEST_CASE(a_database_outage_answers_503_json_never_500) {
  auto u = node().add_user(1009);
  auto cfg = node().node_config();
  cfg.database_url = "host=127.0.0.1 port=1 dbname=none connect_timeout=2";
  running_server lost(cfg, node().node_services(10s));
  for (auto path : {"/sync/status", "/sync/jobs", "/matches", "/stats/summary"}) {
    auto r = client(lost.port(), u.token).get(path);
    BOOST_TEST(r.status == 503, path);
    BOOST_TEST(r.json() == detail("Database unavailable"), path);
  }
  cfg.auth = "none";
  cfg.default_account_id = 1009;
  running_server lost_open(cfg, node().node_services(10s));
  auto r = client(lost_open.port()).get("/sync/status");
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.json() == detail("Database unavailable"));
  // Metrics still answer: the job counts are skipped, not the scrape.
  BOOST_TEST(client(lost.port()).get("/metrics").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(trigger)

BOOST_AUTO_TEST_CASE(trigger_with_no_body_starts_an_incremental_job_and_answers_201) {
  auto u = node().add_user(1010);
  auto r = as(u).post("/sync/trigger");
  BOOST_TEST(r.status == 201);
  auto j = r.json();
  BOOST_TEST(j["job_type"] == "incremental_sync");
  BOOST_TEST((j["status"] == "pending" || j["status"] == "running"));
  BOOST_TEST(j["account_id"] == 1010);
  BOOST_TEST(j.size() == 20u);  // SPEC §4 SyncJob, resume_at and triggered_by included
  BOOST_TEST(node().wait_terminal(u, j["id"].get<std::int64_t>(), 30s)["status"] == "completed");
  // A POST with neither Content-Length nor a chunked body has an empty body.
  auto raw = raw_exchange(node().port(),
                          "POST /sync/trigger HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          "Authorization: Bearer " + u.token + "\r\n\r\n", 3s);
  BOOST_TEST(raw.status == 201);
  BOOST_TEST(node().wait_terminal(u, raw.json()["id"].get<std::int64_t>(), 30s)["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(trigger_with_full_sync_or_an_empty_object_picks_the_type) {
  auto u = node().add_user(1011);
  auto full = as(u).post("/sync/trigger", R"({"job_type": "full_sync"})");
  BOOST_TEST(full.status == 201);
  BOOST_TEST(full.json()["job_type"] == "full_sync");
  BOOST_TEST(node().wait_terminal(u, full.json()["id"].get<std::int64_t>(), 30s)["status"] == "completed");
  auto empty = as(u).post("/sync/trigger", "{}");
  BOOST_TEST(empty.status == 201);
  BOOST_TEST(empty.json()["job_type"] == "incremental_sync");
  BOOST_TEST(node().wait_terminal(u, empty.json()["id"].get<std::int64_t>(), 30s)["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(a_body_that_is_not_a_json_object_is_422_even_while_a_job_is_active) {
  auto u = node().add_user(long_account(2));
  trigger_id(u);
  struct bad {
    std::string body;
    std::string content_type;
    std::string detail;
  };
  for (auto& b : std::vector<bad>{
         {"{", "application/json", "Request body is not valid JSON"},
         {"not json", "text/plain", "Request body is not valid JSON"},
         {"{\"job_type\": \"full\xff\"}", "application/json", "Request body is not valid JSON"},
         {"null", "application/json", "Request body must be a JSON object"},
         {"[]", "application/json", "Request body must be a JSON object"},
         {"\"full_sync\"", "application/json", "Request body must be a JSON object"},
         {"42", "application/json", "Request body must be a JSON object"},
         {"--b\r\nContent-Disposition: form-data; name=\"job_type\"\r\n\r\nfull_sync\r\n--b--\r\n",
          "multipart/form-data; boundary=b", "Request body must be a JSON object"}}) {
    auto r = as(u).post("/sync/trigger", b.body, b.content_type);
    BOOST_TEST(r.status == 422, b.body);
    BOOST_TEST(r.json() == detail(b.detail), b.body);
  }
  BOOST_TEST(as(u).post("/sync/trigger").status == 409);
  node().cancel_active(u);
}

BOOST_AUTO_TEST_CASE(an_unknown_or_mistyped_job_type_is_422) {
  auto u = node().add_user(1012);
  for (auto body : {R"({"job_type":"nope"})", R"({"job_type":1})", R"({"job_type":null})",
                    R"({"job_type":{"a":1}})"}) {
    auto r = as(u).post("/sync/trigger", body);
    BOOST_TEST(r.status == 422, body);
    BOOST_TEST(r.json() == detail("job_type must be one of: incremental_sync, full_sync"));
  }
  BOOST_TEST(as(u).get("/sync/jobs").json().empty());
}

BOOST_AUTO_TEST_CASE(a_second_trigger_while_a_job_is_active_is_409_with_the_active_job) {
  auto u = node().add_user(long_account(3));
  auto id = trigger_id(u);
  auto r = as(u).post("/sync/trigger", R"({"job_type":"full_sync"})");
  BOOST_TEST(r.status == 409);
  auto j = r.json();
  BOOST_TEST(j["detail"] == "A sync job is already active");
  BOOST_TEST(j["active_job"]["id"] == id);
  BOOST_TEST(j["active_job"]["job_type"] == "incremental_sync");
  BOOST_TEST(j.size() == 2u);
  node().cancel_active(u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cancel)

BOOST_AUTO_TEST_CASE(cancel_of_a_running_job_answers_200_with_the_cancelled_row) {
  auto u = node().add_user(long_account(4));
  auto id = trigger_id(u);
  wait_running(u, id);
  auto r = as(u).post("/sync/cancel/" + std::to_string(id));
  BOOST_TEST(r.status == 200);
  auto j = r.json();
  BOOST_TEST(j["id"] == id);
  BOOST_TEST(j["status"] == "cancelled");
  BOOST_TEST(j["error_message"] == "Cancelled by user");
  BOOST_TEST(j["completed_at"].is_string());
  BOOST_TEST(j["cancel_requested_at"].is_string());
  BOOST_TEST(j["phase"].is_null());
  // A new sync may start at once; a second cancel of the ended job is 400.
  auto again = as(u).post("/sync/trigger");
  BOOST_TEST(again.status == 201);
  auto second = as(u).post("/sync/cancel/" + std::to_string(id));
  BOOST_TEST(second.status == 400);
  BOOST_TEST(second.json() == detail("Cannot cancel job with status: cancelled"));
  node().cancel_active(u);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_pending_job_answers_200_at_once) {
  // A pending job: all slots are busy with other users' long jobs.
  std::vector<test_user> fillers;
  for (int i = 0; i < 8; ++i) {
    fillers.push_back(node().add_user(long_account(20 + i)));
    trigger_id(fillers.back());
  }
  BOOST_REQUIRE(wait_until([&] { return node().jobs().running_jobs().size() >= 8u; }, 10s));
  auto u = node().add_user(1013);
  auto id = trigger_id(u);
  BOOST_TEST(as(u).get("/sync/jobs/" + std::to_string(id)).json()["status"] == "pending");
  auto t0 = std::chrono::steady_clock::now();
  auto r = as(u).post("/sync/cancel/" + std::to_string(id));
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.json()["status"] == "cancelled");
  BOOST_TEST(r.json()["started_at"].is_null());
  // "At once" (SPEC §4): no job actor is asked, so the answer never waits for
  // the deadline after which a running job's cancel is forced.
  BOOST_TEST((took < std::chrono::milliseconds(node().cfg().cancel_timeout_ms)));
  for (auto& f : fillers)
    node().cancel_active(f);
}

BOOST_AUTO_TEST_CASE(cancel_of_a_completed_job_is_400_with_its_status) {
  auto u = node().add_user(1014);
  auto id = trigger_id(u);
  BOOST_TEST(node().wait_terminal(u, id, 30s)["status"] == "completed");
  auto r = as(u).post("/sync/cancel/" + std::to_string(id));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.json() == detail("Cannot cancel job with status: completed"));
}

BOOST_AUTO_TEST_CASE(cancel_of_an_unknown_or_another_users_job_is_404) {
  auto owner = node().add_user(long_account(5));
  auto other = node().add_user(1015);
  auto id = trigger_id(owner);
  for (auto path : {std::string("/sync/cancel/") + std::to_string(id), std::string("/sync/cancel/0"),
                    std::string("/sync/cancel/9223372036854775807")}) {
    auto r = as(other).post(path);
    BOOST_TEST(r.status == 404, path);
    BOOST_TEST(r.json() == detail("Sync job not found"));
  }
  BOOST_TEST(as(owner).get("/sync/status").json()["is_syncing"] == true);
  node().cancel_active(owner);
}

BOOST_AUTO_TEST_CASE(a_job_or_match_id_that_is_not_an_integer_is_422) {
  auto u = node().add_user(1016);
  auto r = as(u).post("/sync/cancel/abc");
  BOOST_TEST(r.status == 422);
  BOOST_TEST(r.json() == detail("job_id must be a non-negative integer"));
  BOOST_TEST(as(u).get("/sync/jobs/-3").json() == detail("job_id must be a non-negative integer"));
  BOOST_TEST(as(u).get("/sync/jobs/99999999999999999999").status == 422);
  // Near httplib's 8 KiB request-line limit: still a plain 422.
  BOOST_TEST(as(u).get("/sync/jobs/" + std::string(8100, '7')).status == 422);
  BOOST_TEST(as(u).post("/sync/cancel/" + std::string(8100, 'a')).status == 422);
  auto m = as(u).get("/matches/1.5");
  BOOST_TEST(m.status == 422);
  BOOST_TEST(m.json() == detail("match_id must be a non-negative integer"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reads)

BOOST_AUTO_TEST_CASE(sync_status_reports_the_active_job_or_none) {
  auto u = node().add_user(long_account(6));
  BOOST_TEST(as(u).get("/sync/status").json() ==
             (json{{"is_syncing", false}, {"active_job", nullptr}}));
  auto id = trigger_id(u);
  auto s = as(u).get("/sync/status");
  BOOST_TEST(s.status == 200);
  BOOST_TEST(s.json()["is_syncing"] == true);
  BOOST_TEST(s.json()["active_job"]["id"] == id);
  node().cancel_active(u);
  BOOST_TEST(as(u).get("/sync/status").json()["is_syncing"] == false);
}

BOOST_AUTO_TEST_CASE(sync_jobs_lists_newest_first_ten_by_default_and_honours_limit) {
  auto u = node().add_user(1017);
  insert_finished_jobs(u, 12);
  auto all = as(u).get("/sync/jobs");
  BOOST_TEST(all.status == 200);
  auto jobs = all.json();
  BOOST_REQUIRE(jobs.is_array());
  BOOST_TEST(jobs.size() == 10u);
  for (std::size_t i = 1; i < jobs.size(); ++i)
    BOOST_TEST(jobs[i - 1]["id"].get<std::int64_t>() > jobs[i]["id"].get<std::int64_t>());
  BOOST_TEST(as(u).get("/sync/jobs?limit=1").json().size() == 1u);
  BOOST_TEST(as(u).get("/sync/jobs?limit=100").json().size() == 12u);
  BOOST_TEST(as(u).get("/sync/jobs?limit=3").json()[0]["id"] == jobs[0]["id"]);
}

BOOST_AUTO_TEST_CASE(out_of_range_query_values_are_422) {
  auto u = node().add_user(1018);
  for (auto q : {"limit=0", "limit=abc", "limit=1000", "limit=-1", "limit=1.5", "limit=",
                 "limit=101"}) {
    auto r = as(u).get(std::string("/sync/jobs?") + q);
    BOOST_TEST(r.status == 422, q);
    BOOST_TEST(r.json() == detail("limit must be an integer between 1 and 100"), q);
  }
  for (auto q : {"limit=0", "limit=501", "limit=abc", "limit=-1"}) {
    auto r = as(u).get(std::string("/matches?") + q);
    BOOST_TEST(r.status == 422, q);
    BOOST_TEST(r.json() == detail("limit must be an integer between 1 and 500"), q);
  }
  for (auto q : {"offset=-1", "offset=abc", "offset=1.5", "offset=99999999999"}) {
    auto r = as(u).get(std::string("/matches?") + q);
    BOOST_TEST(r.status == 422, q);
    BOOST_TEST(r.json() == detail("offset must be an integer between 0 and 2147483647"), q);
  }
  BOOST_TEST(as(u).get("/matches?limit=500&offset=0").status == 200);
}

BOOST_AUTO_TEST_CASE(a_job_is_visible_to_its_owner_only) {
  auto a = node().add_user(1019);
  auto b = node().add_user(1020);
  auto id = trigger_id(a);
  BOOST_TEST(node().wait_terminal(a, id, 30s)["status"] == "completed");
  auto mine = as(a).get("/sync/jobs/" + std::to_string(id));
  BOOST_TEST(mine.status == 200);
  BOOST_TEST(mine.json()["id"] == id);
  auto theirs = as(b).get("/sync/jobs/" + std::to_string(id));
  BOOST_TEST(theirs.status == 404);
  BOOST_TEST(theirs.json() == detail("Sync job not found"));
  BOOST_TEST(as(b).get("/sync/jobs").json().empty());
  BOOST_TEST(as(a).get("/sync/jobs").json().size() == 1u);
}

BOOST_AUTO_TEST_CASE(matches_after_a_completed_sync_are_listed_newest_first_with_details) {
  auto u = node().add_user(1030);  // 30 matches upstream
  auto id = trigger_id(u);
  BOOST_REQUIRE(node().wait_terminal(u, id, 30s)["status"] == "completed");
  auto history = node().upstream().history(1030);
  auto r = as(u).get("/matches");
  BOOST_TEST(r.status == 200);
  auto ms = r.json();
  BOOST_REQUIRE(ms.size() == 30u);
  BOOST_REQUIRE(history.size() == 30u);
  for (std::size_t i = 0; i < ms.size(); ++i)
    BOOST_TEST(ms[i]["match_id"] == history[i]["match_id"]);
  auto& first = ms[0];
  BOOST_TEST(first.size() == 13u);
  BOOST_TEST(first["has_details"] == true);
  BOOST_TEST(first["won"] == ((first["player_slot"].get<int>() < 128) ==
                              first["radiant_win"].get<bool>()));
  auto page = as(u).get("/matches?limit=5&offset=5").json();
  BOOST_REQUIRE(page.size() == 5u);
  BOOST_TEST(page[0]["match_id"] == ms[5]["match_id"]);
  BOOST_TEST(as(u).get("/matches?offset=30").json().empty());
  auto one = as(u).get("/matches/" + std::to_string(first["match_id"].get<std::int64_t>()));
  BOOST_TEST(one.status == 200);
  BOOST_TEST(one.json()["details"].is_object());
  BOOST_TEST(one.json()["details"]["match_id"] == first["match_id"]);
  auto stats = as(u).get("/stats/summary");
  BOOST_TEST(stats.status == 200);
  auto s = stats.json();
  BOOST_TEST(s["total_matches"] == 30);
  int wins = 0;
  for (auto& m : ms)
    wins += m["won"] == true ? 1 : 0;
  BOOST_TEST(s["wins"] == wins);
  BOOST_TEST(s["losses"] == 30 - wins);
  BOOST_TEST(std::abs(s["win_rate"].get<double>() - wins / 30.0) < 0.0001);
}

BOOST_AUTO_TEST_CASE(two_users_see_only_their_own_matches_and_stats) {
  auto a = node().add_user(1021);
  auto b = node().add_user(1007 + 2000);  // 7 matches
  BOOST_TEST(node().wait_terminal(a, trigger_id(a), 30s)["status"] == "completed");
  BOOST_TEST(node().wait_terminal(b, trigger_id(b), 30s)["status"] == "completed");
  auto am = as(a).get("/matches").json();
  auto bm = as(b).get("/matches").json();
  BOOST_TEST(am.size() == 21u);
  BOOST_TEST(bm.size() == 7u);
  std::set<std::int64_t> a_ids;
  for (auto& m : am)
    a_ids.insert(m["match_id"].get<std::int64_t>());
  for (auto& m : bm)
    BOOST_TEST(a_ids.count(m["match_id"].get<std::int64_t>()) == 0u);
  auto foreign = as(b).get("/matches/" + std::to_string(*a_ids.begin()));
  BOOST_TEST(foreign.status == 404);
  BOOST_TEST(foreign.json() == detail("Match not found"));
  BOOST_TEST(as(a).get("/stats/summary").json()["total_matches"] == 21);
  BOOST_TEST(as(b).get("/stats/summary").json()["total_matches"] == 7);
}

BOOST_AUTO_TEST_CASE(a_user_without_matches_gets_empty_lists_and_zero_stats) {
  auto u = node().add_user(1022);
  BOOST_TEST(as(u).get("/matches").json() == json::array());
  BOOST_TEST(as(u).get("/matches/5").status == 404);
  auto s = as(u).get("/stats/summary").json();
  BOOST_TEST(s == (json{{"total_matches", 0}, {"wins", 0}, {"losses", 0}, {"win_rate", 0.0},
                        {"avg_kills", 0.0}, {"avg_deaths", 0.0}, {"avg_assists", 0.0}}));
}

BOOST_AUTO_TEST_SUITE_END()
