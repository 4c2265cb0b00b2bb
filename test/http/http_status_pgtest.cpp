// GET /sync/status answered from the event bus's board, and keep-alive:
// the status agrees with trigger and cancel answers at once, follows a job on
// a local slot, and many requests share one connection, more connections
// than the pool keeps threads for included.
#define BOOST_TEST_MODULE http_status
#include <boost/test/unit_test.hpp>

#include <memory>
#include <vector>

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
    o.database = "http_status";
    instance = new api_harness(o);
  }
  ~node_fixture() { delete instance; }
  static api_harness* instance;
};
api_harness* node_fixture::instance = nullptr;

api_harness& node() { return *node_fixture::instance; }
client as(const test_user& u) { return client(node().port(), u.token); }

// Account N has N % 1000 matches at the fake (25 ms a request).
constexpr std::int64_t long_account = 50999;

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(node_fixture);

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(status_shows_a_triggered_job_at_once_and_none_after_its_cancel_answer) {
  auto u = node().add_user(long_account);
  keep_alive_client status(node().port(), u.token);
  for (int round = 0; round < 20; ++round) {
    auto t = as(u).post("/sync/trigger");
    BOOST_REQUIRE_MESSAGE(t.status == 201, t.status << " " << t.body);
    auto id = t.json()["id"];
    auto s = status.get("/sync/status");
    BOOST_REQUIRE(s.status == 200);
    BOOST_TEST(s.json()["is_syncing"] == true, "round " << round);
    BOOST_TEST(s.json()["active_job"]["id"] == id, "round " << round);
    auto c = as(u).post("/sync/cancel/" + id.dump());
    BOOST_REQUIRE_MESSAGE(c.status == 200, c.status << " " << c.body);
    BOOST_TEST(status.get("/sync/status").json() ==
                 (json{{"is_syncing", false}, {"active_job", nullptr}}),
               "round " << round);
  }
}

BOOST_AUTO_TEST_CASE(status_follows_a_job_on_a_local_slot_through_progress_to_completion) {
  // 160 matches: 8 steps of 20 details, about a second at the fake's 25 ms.
  // A job's progress reaches the board at most every 250 ms, and a 40-match
  // job (two steps) could end before any progress was published.
  auto u = node().add_user(60160);
  auto t = as(u).post("/sync/trigger", R"({"job_type": "full_sync"})");
  BOOST_REQUIRE(t.status == 201);
  auto id = t.json()["id"].get<std::int64_t>();
  keep_alive_client status(node().port(), u.token);
  std::int64_t last_processed = -1;
  bool saw_progress = false, progress_went_back = false, status_ahead_of_row = false;
  bool ended = wait_until(
    [&] {
      auto s = status.get("/sync/status").json();
      if (s["is_syncing"] == false)
        return true;
      auto& job = s["active_job"];
      if (job["id"] != id || job["status"] != "running")
        return false;
      auto processed = job["processed_matches"].get<std::int64_t>();
      progress_went_back |= processed < last_processed;
      saw_progress |= processed > 0;
      last_processed = processed;
      // The stored row, read after: never behind what status showed.
      auto row = as(u).get("/sync/jobs/" + std::to_string(id)).json();
      status_ahead_of_row |= row["processed_matches"].get<std::int64_t>() < processed;
      return false;
    },
    30s);
  BOOST_REQUIRE(ended);
  BOOST_TEST(saw_progress);
  BOOST_TEST(!progress_went_back);
  BOOST_TEST(!status_ahead_of_row);
  // Once status says the job is over, its row says so too.
  BOOST_TEST(as(u).get("/sync/jobs/" + std::to_string(id)).json()["status"] == "completed");
}

BOOST_AUTO_TEST_CASE(another_users_job_is_not_in_status) {
  auto a = node().add_user(long_account + 1000);
  auto b = node().add_user(long_account + 2000);
  BOOST_REQUIRE(as(a).post("/sync/trigger").status == 201);
  BOOST_TEST(as(b).get("/sync/status").json()["is_syncing"] == false);
  node().cancel_active(a);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keep_alive)

BOOST_AUTO_TEST_CASE(one_connection_serves_many_requests_without_being_closed) {
  auto u = node().add_user(1001);
  keep_alive_client conn(node().port(), u.token);
  for (int i = 0; i < 200; ++i) {
    auto r = conn.get("/sync/status");
    BOOST_REQUIRE_MESSAGE(r.status == 200, "request " << i << " got no answer");
    BOOST_REQUIRE_MESSAGE(r.header("connection") != "close", "closed after " << i + 1);
  }
}

BOOST_AUTO_TEST_CASE(more_open_connections_than_pool_threads_are_all_served) {
  // The harness's pool keeps 16 threads; each open connection holds one.
  // A fixed pool would leave 48 of these waiting until others closed, and
  // those would be gone for round 2.
  auto u = node().add_user(1002);
  BOOST_REQUIRE(node().node().server().pool_threads() < 64);
  std::vector<std::unique_ptr<keep_alive_client>> conns;
  for (int i = 0; i < 64; ++i) {
    // A request at once: a connection silent for 2 s is closed.
    conns.push_back(std::make_unique<keep_alive_client>(node().port(), u.token));
    BOOST_REQUIRE(conns.back()->send_get("/sync/status"));
  }
  for (int round = 0; round < 3; ++round) {
    if (round > 0)
      for (auto& c : conns)
        BOOST_REQUIRE_MESSAGE(c->send_get("/sync/status"), "round " << round);
    int answered = 0;
    for (auto& c : conns)
      answered += c->read().status == 200 ? 1 : 0;
    BOOST_TEST(answered == 64, "round " << round);
  }
}

BOOST_AUTO_TEST_SUITE_END()
