// GET /sync/events against the real server and runtime: what a dashboard
// sees while its jobs run, the stream cap, leaving clients and stopping.
#define BOOST_TEST_MODULE http_events
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "test/http/api_harness.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace matchsync::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr int stream_cap = 4;

struct node_fixture {
  node_fixture() {
    api_harness::options o;
    o.database = "http_events";
    o.sse_max_streams = stream_cap;
    o.heartbeat = 300ms;
    instance = new api_harness(o);
  }
  ~node_fixture() { delete instance; }
  static api_harness* instance;
};
api_harness* node_fixture::instance = nullptr;

api_harness& node() { return *node_fixture::instance; }
client as(const test_user& u) { return client(node().port(), u.token); }

std::int64_t trigger_id(const test_user& u) {
  auto r = as(u).post("/sync/trigger");
  BOOST_REQUIRE_MESSAGE(r.status == 201, "trigger answered " << r.status << " " << r.body);
  return r.json()["id"].get<std::int64_t>();
}

std::int64_t long_account(int n) { return 10000 * n + 999; }

// The events of one job, in order.
std::vector<json> of_job(const std::vector<event_client::event>& events, std::int64_t id) {
  std::vector<json> out;
  for (auto& e : events)
    if (e.type == "job" && e.data.is_object() && e.data["id"] == id)
      out.push_back(e.data);
  return out;
}

bool has_status(const std::vector<event_client::event>& events, std::int64_t id,
                const std::string& status) {
  for (auto& j : of_job(events, id))
    if (j["status"] == status)
      return true;
  return false;
}

// Streams of earlier cases end at their next heartbeat after they left.
void wait_no_streams() {
  BOOST_REQUIRE(wait_until([] { return node().node().server().open_streams() == 0; }, 5s));
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(node_fixture);

BOOST_AUTO_TEST_SUITE(events)

BOOST_AUTO_TEST_CASE(two_clients_see_a_job_go_from_pending_through_progress_to_completed) {
  wait_no_streams();
  // 160 matches, 25 ms each upstream: eight steps of 20 details, long
  // enough for progress events between running and completed (they are
  // coalesced to one per 250 ms).
  auto u = node().add_user(1160);
  event_client first(node().port(), u.token), second(node().port(), u.token);
  BOOST_REQUIRE(first.wait_for_text(": keepalive", 5s));
  BOOST_REQUIRE(second.wait_for_text(": keepalive", 5s));
  BOOST_TEST(first.status() == 200);
  BOOST_TEST(first.content_encoding() == "");  // offered gzip, got plain text
  auto id = trigger_id(u);
  for (auto* c : {&first, &second})
    BOOST_REQUIRE(c->wait_for([&](auto& ev) { return has_status(ev, id, "completed"); }, 30s));

  auto seen = of_job(first.events(), id);
  BOOST_REQUIRE(seen.size() >= 4u);
  BOOST_TEST(seen.front()["status"] == "pending");
  BOOST_TEST(seen.back()["status"] == "completed");
  BOOST_TEST(seen.back()["progress_percentage"].get<double>() == 100.0);
  BOOST_TEST(seen.back()["phase"].is_null());
  bool progress = false;
  std::size_t first_running = seen.size();
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i]["status"] == "running" && first_running == seen.size())
      first_running = i;
    auto processed = seen[i]["processed_matches"].get<int>();
    if (seen[i]["status"] == "running" && processed > 0 &&
        processed < seen[i]["total_matches"].get<int>())
      progress = true;
    if (i > 0)  // counters never go back
      BOOST_TEST(processed >= seen[i - 1]["processed_matches"].get<int>());
  }
  BOOST_TEST(first_running > 0u);
  BOOST_TEST(first_running < seen.size() - 1);
  BOOST_TEST(progress, "no progress event between running and completed");
  for (auto& e : seen)
    BOOST_TEST(e.size() == 20u);  // SPEC §4 SyncJob, resume_at and triggered_by included

  // The second client saw the very same changes.
  auto other = of_job(second.events(), id);
  BOOST_REQUIRE(other.size() == seen.size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    BOOST_TEST(other[i]["status"] == seen[i]["status"]);
    BOOST_TEST(other[i]["processed_matches"] == seen[i]["processed_matches"]);
  }
}

BOOST_AUTO_TEST_CASE(a_rate_limited_job_sends_a_wait_event_before_it_waits) {
  wait_no_streams();
  auto u = node().add_user(1077);
  // The job's first list request is answered 429 with Retry-After: 1.
  node().upstream().script("/api/players/1077/.*",
                           {scripted_answer::too_many_requests(1)});
  event_client c(node().port(), u.token);
  BOOST_REQUIRE(c.wait_for_text(": keepalive", 5s));
  auto id = trigger_id(u);
  BOOST_REQUIRE(c.wait_for([&](auto& ev) { return has_status(ev, id, "completed"); }, 30s));
  std::vector<json> waits;
  for (auto& e : c.events())
    if (e.type == "wait")
      waits.push_back(e.data);
  BOOST_REQUIRE(waits.size() == 1u);
  BOOST_TEST(waits[0]["job_id"] == id);
  BOOST_TEST(waits[0]["reason"] == "rate_limited");
  BOOST_TEST(waits[0]["seconds"].get<double>() == 1.0);
  BOOST_TEST(waits[0]["waits"] == 1);
}

BOOST_AUTO_TEST_CASE(a_client_connecting_during_a_job_first_gets_the_active_job) {
  wait_no_streams();
  auto u = node().add_user(long_account(1));
  auto id = trigger_id(u);
  event_client c(node().port(), u.token);
  BOOST_REQUIRE(c.wait_for([](auto& ev) { return !ev.empty(); }, 5s));
  auto first = c.events().front();
  BOOST_TEST(first.type == "job");
  BOOST_TEST(first.data["id"] == id);
  BOOST_TEST((first.data["status"] == "pending" || first.data["status"] == "running"));
  BOOST_TEST(c.text().rfind(": keepalive\n\nevent: job\ndata: {", 0) == 0);
  node().cancel_active(u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_job_ends_with_a_cancelled_event) {
  wait_no_streams();
  auto u = node().add_user(long_account(2));
  event_client c(node().port(), u.token);
  BOOST_REQUIRE(c.wait_for_text(": keepalive", 5s));
  auto id = trigger_id(u);
  BOOST_REQUIRE(c.wait_for([&](auto& ev) { return has_status(ev, id, "running"); }, 10s));
  auto r = as(u).post("/sync/cancel/" + std::to_string(id));
  BOOST_TEST(r.status == 200);
  BOOST_REQUIRE(c.wait_for([&](auto& ev) { return has_status(ev, id, "cancelled"); }, 10s));
  auto last = of_job(c.events(), id).back();
  BOOST_TEST(last["status"] == "cancelled");
  BOOST_TEST(last["error_message"] == "Cancelled by user");
}

BOOST_AUTO_TEST_CASE(heartbeats_arrive_while_nothing_changes) {
  wait_no_streams();
  auto u = node().add_user(1041);
  event_client c(node().port(), u.token);
  auto count = [&] {
    auto t = c.text();
    std::size_t n = 0;
    for (auto p = t.find(": keepalive\n\n"); p != std::string::npos;
         p = t.find(": keepalive\n\n", p + 1))
      ++n;
    return n;
  };
  BOOST_TEST(wait_until([&] { return count() >= 4u; }, 10s));
  BOOST_TEST(c.events().empty());
  BOOST_TEST(!c.ended());
}

BOOST_AUTO_TEST_CASE(another_users_job_changes_are_not_sent) {
  wait_no_streams();
  auto a = node().add_user(1042);
  auto b = node().add_user(1043);
  event_client watcher(node().port(), a.token);
  BOOST_REQUIRE(watcher.wait_for_text(": keepalive", 5s));
  auto theirs = trigger_id(b);
  node().wait_terminal(b, theirs, 30s);
  auto mine = trigger_id(a);
  BOOST_REQUIRE(watcher.wait_for([&](auto& ev) { return has_status(ev, mine, "completed"); }, 30s));
  BOOST_TEST(of_job(watcher.events(), theirs).empty());
}

BOOST_AUTO_TEST_CASE(streams_need_a_token) {
  event_client c(node().port(), "", false);
  BOOST_REQUIRE(wait_until([&] { return c.ended(); }, 5s));
  BOOST_TEST(c.status() == 401);
  BOOST_TEST(json::parse(c.text(), nullptr, false) == (json{{"detail", "Not authenticated"}}));
}

BOOST_AUTO_TEST_CASE(with_the_stream_cap_reached_a_new_stream_gets_503_and_requests_still_answer) {
  wait_no_streams();
  // Two users fill the cap: one user alone may not (SPEC §4, 4 per user and
  // never the whole server cap).
  auto u = node().add_user(1044);
  auto u2 = node().add_user(1091);
  std::vector<std::unique_ptr<event_client>> open;
  for (int i = 0; i < stream_cap; ++i) {
    open.push_back(std::make_unique<event_client>(node().port(), i % 2 ? u2.token : u.token));
    BOOST_REQUIRE(open.back()->wait_for_text(": keepalive", 5s));
  }
  BOOST_TEST(node().node().server().open_streams() == stream_cap);
  event_client refused(node().port(), u.token, false);
  BOOST_REQUIRE(wait_until([&] { return refused.ended(); }, 5s));
  BOOST_TEST(refused.status() == 503);
  BOOST_TEST(json::parse(refused.text(), nullptr, false) ==
             (json{{"detail", "Too many open event streams; try again later"}}));
  // Plain requests find a thread at once (a starved pool would time out).
  for (int i = 0; i < 20; ++i) {
    auto r = raw_exchange(node().port(),
                          "GET /sync/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          "Authorization: Bearer " + u.token + "\r\n\r\n",
                          2s);
    BOOST_TEST(r.status == 200);
  }
  // A stream that leaves frees its place.
  open.front()->close();
  BOOST_REQUIRE(wait_until(
    [&] { return node().node().server().open_streams() == stream_cap - 1; }, 5s));
  event_client admitted(node().port(), u.token);
  BOOST_TEST(admitted.wait_for_text(": keepalive", 5s));
  BOOST_TEST(admitted.status() == 200);
}

BOOST_AUTO_TEST_CASE(a_client_that_leaves_is_unsubscribed) {
  wait_no_streams();
  auto u = node().add_user(1045);
  auto before = node().jobs().bus().listeners();
  auto c = std::make_unique<event_client>(node().port(), u.token);
  BOOST_REQUIRE(c->wait_for_text(": keepalive", 5s));
  BOOST_TEST(node().jobs().bus().listeners() == before + 1);
  c->close();
  BOOST_TEST(wait_until([&] { return node().jobs().bus().listeners() == before; }, 5s));
  BOOST_TEST(node().node().server().open_streams() == 0);
}

BOOST_AUTO_TEST_CASE(stop_ends_open_streams_promptly) {
  auto u = node().add_user(1046);
  // A second server on the same runtime with a long heartbeat, so nothing
  // but the stop can end its streams.
  running_server other(node().node_config(), node().node_services(60s));
  event_client a(other.port(), u.token), b(other.port(), u.token);
  BOOST_REQUIRE(a.wait_for_text(": keepalive", 5s));
  BOOST_REQUIRE(b.wait_for_text(": keepalive", 5s));
  BOOST_TEST(other.server().open_streams() == 2);
  auto took = other.stop();
  BOOST_TEST(took.count() < 3000, "stop took " << took.count() << " ms");
  BOOST_TEST(wait_until([&] { return a.ended() && b.ended(); }, 2s));
  BOOST_TEST(other.server().open_streams() == 0);
  BOOST_TEST(raw_exchange(other.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 1s).status == 0);
}

BOOST_AUTO_TEST_CASE(stop_lets_a_request_in_flight_finish_and_refuses_new_ones) {
  // /ready blocks inside its handler until the test lets it go.
  std::mutex m;
  std::condition_variable cv;
  bool entered = false, release = false;
  auto svc = node().node_services(60s);
  svc.readiness = [&]() -> std::optional<std::string> {
    std::unique_lock<std::mutex> lock(m);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return std::nullopt;
  };
  running_server other(node().node_config(), svc);
  reply answer;
  std::atomic<bool> answered{false};
  std::thread request([&] {
    answer = raw_exchange(other.port(), "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                          10s);
    answered = true;
  });
  {
    std::unique_lock<std::mutex> lock(m);
    BOOST_REQUIRE(cv.wait_for(lock, 5s, [&] { return entered; }));
  }
  std::thread stopper([&] { other.stop(); });
  // The listening socket closes at once while the request is still held.
  BOOST_TEST(wait_until(
    [&] { return raw_exchange(other.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 500ms).status == 0; },
    5s));
  BOOST_TEST(!answered);
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  request.join();
  stopper.join();
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(answer.json() == (json{{"status", "ready"}}));
}

BOOST_AUTO_TEST_SUITE_END()
