// http_client against the fake OpenDota over loopback: pagination, 404s,
// 429 with and without Retry-After, the daily limit, 5xx, malformed JSON,
// resets, timeouts, cancellation, the api key.
#define BOOST_TEST_MODULE http_client
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <thread>

#include "test/fake_opendota/fake_server.hpp"
#include "test/support/process.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/http_client.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync::upstream;
using matchsync::test::fake_opendota;
using matchsync::test::scripted_answer;
using matchsync::test::wait_until;
using namespace std::chrono_literals;

namespace {

fake_opendota& fake() {
  static fake_opendota instance;
  return instance;
}

// Grants every request at once and counts them, and the holds asked for.
struct counting_budget final : rate_budget {
  bool acquire(cancel_token& token) override {
    ++granted;
    return !token.cancelled();
  }
  void hold_until_next_minute() override { ++holds; }
  std::atomic<int> granted{0};
  std::atomic<int> holds{0};
};

struct fixture {
  fixture() { fake().reset(); }

  // Fast retries unless a case needs the real schedule.
  http_client make(int max_retries = 5,
                   backoff_policy backoff = {10ms, 100ms}) {
    http_client_options o;
    o.base_url = fake().url();
    o.max_retries = max_retries;
    o.backoff = backoff;
    o.timeout = 5s;
    o.seed = 7;
    return http_client(o, budget);
  }

  counting_budget budget;
  cancel_token token;
};

long long ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - t)
    .count();
}

// Runs `call` on a thread of its own and returns once the fake has seen
// `requests` requests and that thread sleeps in futex(): the wait after
// them (a Retry-After, a turn) has begun.
std::thread start_waiting_after(std::size_t requests, std::function<void()> call) {
  auto tid = std::make_shared<std::atomic<long>>(0);
  std::thread t([tid, call = std::move(call)] {
    *tid = matchsync::test::thread_id();
    call();
  });
  bool waiting = wait_until(
    [&] {
      return fake().log().size() >= requests && *tid != 0 &&
             matchsync::test::blocked_in_futex(*tid);
    },
    10s);
  if (!waiting)
    t.detach();
  BOOST_REQUIRE_MESSAGE(waiting, "the call never waited after " << requests << " request(s)");
  return t;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(http_client_suite, fixture)

BOOST_AUTO_TEST_CASE(pages_come_newest_first_until_an_empty_one) {
  auto client = make();
  nlohmann::json all = nlohmann::json::array();
  for (int offset = 0;; offset += 100) {
    auto page = client.list_matches(250, 100, offset, token);
    BOOST_TEST_REQUIRE((page.kind == result_kind::ok));
    if (page.data.empty())
      break;
    for (auto& m : page.data)
      all.push_back(m);
  }
  BOOST_TEST(all == fake().history(250));
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 4u);
  BOOST_TEST(log[0].path == "/api/players/250/matches");
  BOOST_TEST(log[0].query == "limit=100&offset=0&significant=0");
  BOOST_TEST(log[3].query == "limit=100&offset=300&significant=0");
  BOOST_TEST(budget.granted == 4);
}

BOOST_AUTO_TEST_CASE(the_whole_history_comes_as_text_in_one_request) {
  auto client = make();
  auto r = client.whole_history(250, token);
  BOOST_TEST_REQUIRE((r.kind == result_kind::ok));
  BOOST_TEST(r.data.is_null());  // no tree
  BOOST_TEST(nlohmann::json::parse(r.text) == fake().history(250));
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 1u);
  BOOST_TEST(log[0].path == "/api/players/250/matches");
  BOOST_TEST(log[0].query == "significant=0");
}

BOOST_AUTO_TEST_CASE(a_whole_history_that_is_not_a_list_of_matches_is_retried) {
  auto client = make();
  fake().script("/api/players/250/matches",
                {scripted_answer::malformed_json(), scripted_answer::http_status(200)});
  auto r = client.whole_history(250, token);
  BOOST_TEST_REQUIRE((r.kind == result_kind::ok));
  BOOST_TEST(r.stats.statuses == (std::vector<int>{200, 200, 200}));
}

BOOST_AUTO_TEST_CASE(a_detail_comes_whole) {
  auto client = make();
  auto id = fake_opendota::match_id(42, 7);
  auto d = client.match_detail(id, token);
  BOOST_TEST_REQUIRE((d.kind == result_kind::ok));
  auto object = nlohmann::json::parse(d.text);
  BOOST_TEST(object["match_id"].get<std::int64_t>() == id);
  BOOST_TEST(object["players"].size() == 10u);
  BOOST_TEST(d.stats.requests == 1);
  BOOST_TEST(d.stats.statuses == std::vector<int>{200});
}

BOOST_AUTO_TEST_CASE(a_detail_404_is_not_found_and_not_retried) {
  auto client = make();
  auto id = fake_opendota::match_id(42, 3);
  fake().set_no_details(id);
  auto d = client.match_detail(id, token);
  BOOST_TEST((d.kind == result_kind::not_found));
  BOOST_TEST(fake().log().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_list_404_fails_the_call_with_a_clear_message) {
  auto client = make();
  fake().script("/api/players/.*", {scripted_answer::http_status(404)});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::failed));
  BOOST_TEST(page.error == "GET /api/players/5/matches: HTTP 404: Not Found");
  BOOST_TEST(fake().log().size() == 1u);
}

BOOST_AUTO_TEST_CASE(api_key_is_sent_as_a_query_parameter_and_never_shown) {
  http_client_options o;
  o.base_url = fake().url();
  // OpenDota answers 400 to a key that is not a UUID (and so does the fake).
  o.api_key = "5ec4e7a1-0b1e-4c3d-8e2f-a1b2c3d4e5f6";
  o.backoff = {10ms, 100ms};
  http_client client(o, budget);
  BOOST_TEST((client.list_matches(3, 10, 0, token).kind == result_kind::ok));
  fake().script(".*", {scripted_answer::http_status(401)});
  auto refused = client.match_detail(fake_opendota::match_id(3, 1), token);
  BOOST_TEST((refused.kind == result_kind::failed));
  BOOST_TEST(refused.error.find("5ec4e7a1") == std::string::npos);
  BOOST_TEST(refused.error.find("401") != std::string::npos);
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 2u);
  BOOST_TEST(log[0].params.at("api_key") == o.api_key);
  BOOST_TEST(log[1].params.at("api_key") == o.api_key);
  BOOST_TEST(log[0].params.at("significant") == "0");
}

BOOST_AUTO_TEST_CASE(no_api_key_means_no_api_key_parameter) {
  auto client = make();
  client.list_matches(3, 10, 0, token);
  BOOST_TEST(fake().log().at(0).params.count("api_key") == 0u);
}

BOOST_AUTO_TEST_CASE(retry_after_is_honoured_to_the_second) {
  auto client = make();
  fake().script("/api/players/.*", {scripted_answer::too_many_requests(2)});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok));
  BOOST_TEST(page.stats.rate_limited == 1);
  BOOST_TEST(page.stats.statuses == (std::vector<int>{429, 200}));
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 2u);
  auto gap = log[1].t_ms - log[0].t_ms;
  BOOST_TEST(gap >= 2000.0);
  BOOST_TEST(gap < 2500.0);
}

// OpenDota never sends Retry-After: its 429 means the clock minute is
// spent, so the shared budget holds until the next one (the budget's own
// test checks the wait) and the request is retried then, without a backoff
// of its own. A proxy's HTML 429 the same.
BOOST_AUTO_TEST_CASE(too_many_requests_without_retry_after_holds_the_budget_until_the_next_minute) {
  auto client = make(5, backoff_policy{});
  fake().script("/api/players/.*",
                {scripted_answer::too_many_requests(std::nullopt),
                 scripted_answer::http_status(429, "<html><body>429 Too Many Requests "
                                                   "(daily limit of the proxy)</body></html>")});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok));
  BOOST_TEST(page.stats.rate_limited == 2);
  BOOST_TEST(budget.holds == 2);
  BOOST_TEST(budget.granted == 3);
  BOOST_TEST(page.stats.backoff_wait.count() < 500);
}

BOOST_AUTO_TEST_CASE(remaining_minute_zero_holds_the_budget_and_the_answer_is_used) {
  auto client = make();
  matchsync::test::quota_limits l;
  l.per_minute = 1;
  fake().set_limits(l);
  // Whatever clock minute it falls in, the one request leaves 0.
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok));
  BOOST_TEST(budget.holds == 1);
  BOOST_TEST(!page.day_spent);
  fake().reset();
  BOOST_TEST((client.list_matches(5, 100, 0, token).kind == result_kind::ok));
  BOOST_TEST(budget.holds == 1);  // no limiter, no header, no hold
}

BOOST_AUTO_TEST_CASE(remaining_day_zero_is_told_with_the_answer) {
  auto client = make();
  matchsync::test::quota_limits l;
  l.per_day = 2;
  fake().set_limits(l);
  auto first = client.list_matches(5, 100, 0, token);
  BOOST_TEST((first.kind == result_kind::ok));
  BOOST_TEST(!first.day_spent);
  auto second = client.list_matches(5, 100, 0, token);
  BOOST_TEST((second.kind == result_kind::ok));
  BOOST_TEST(second.day_spent);
  auto third = client.list_matches(5, 100, 0, token);
  BOOST_TEST((third.kind == result_kind::daily_limit));
}

BOOST_AUTO_TEST_CASE(a_key_that_is_not_a_uuid_is_refused_at_once_naming_the_setting) {
  http_client_options o;
  o.base_url = fake().url();
  o.api_key = "not-a-uuid";
  o.backoff = {10ms, 100ms};
  // One lane: with several, the batch's other requests may be on the wire
  // before the first refusal is read (seen under load), and "stops the
  // batch" would count them.
  o.detail_lanes = 1;
  http_client client(o, budget);
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::key_refused));
  BOOST_TEST(page.error.find("MATCHSYNC_UPSTREAM_API_KEY") != std::string::npos, page.error);
  BOOST_TEST(page.error.find("Invalid API key format") != std::string::npos, page.error);
  BOOST_TEST(page.error.find("not-a-uuid") == std::string::npos);
  BOOST_TEST(fake().log().size() == 1u);
  // Among details, the first refusal stops the batch.
  auto results = client.match_details({fake_opendota::match_id(5, 1), fake_opendota::match_id(5, 2),
                                       fake_opendota::match_id(5, 3)},
                                      token);
  for (auto& r : results)
    BOOST_TEST((r.kind == result_kind::key_refused || r.kind == result_kind::cancelled));
  BOOST_TEST(fake().log().size() == 2u);
}

// SPEC §2 bounds the retries of 5xx, timeouts and bad JSON, not the waits
// a 429 asks for: more 429s than max_retries still end in the answer.
BOOST_AUTO_TEST_CASE(rate_limited_answers_do_not_use_up_the_retries) {
  auto client = make(2);
  fake().script("/api/players/.*", {scripted_answer::too_many_requests(0).times(6)});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok), page.error);
  BOOST_TEST(page.stats.rate_limited == 6);
  BOOST_TEST(fake().log().size() == 7u);
}

BOOST_AUTO_TEST_CASE(server_errors_still_use_up_the_retries_between_rate_limits) {
  auto client = make(2);
  fake().script("/api/players/.*", {scripted_answer::too_many_requests(0).times(2),
                                    scripted_answer::http_status(503).times(3)});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::failed));
  BOOST_TEST(page.error.find("gave up after 5 attempts") != std::string::npos, page.error);
  BOOST_TEST(fake().log().size() == 5u);
}

BOOST_AUTO_TEST_CASE(the_daily_limit_fails_at_once_with_its_message) {
  auto client = make();
  fake().script(".*", {scripted_answer::daily_limit()});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::daily_limit));
  BOOST_TEST(page.error.find("daily api limit exceeded") != std::string::npos);
  BOOST_TEST(fake().log().size() == 1u);
}

BOOST_AUTO_TEST_CASE(thirty_percent_random_5xx_still_succeeds) {
  auto client = make(8);
  fake().set_random_errors(0.3, {500, 502, 503}, 11);
  int retried = 0;
  for (int i = 0; i < 40; ++i) {
    auto d = client.match_detail(fake_opendota::match_id(600, i), token);
    BOOST_TEST_REQUIRE((d.kind == result_kind::ok), "detail " << i << ": "
                                                              << d.error);
    retried += d.stats.requests - 1;
  }
  for (int offset = 0; offset < 600; offset += 100)
    BOOST_TEST((client.list_matches(600, 100, offset, token).kind ==
                result_kind::ok));
  // The faults did happen (seeded), and were retried.
  BOOST_TEST(retried > 5);
}

BOOST_AUTO_TEST_CASE(malformed_json_is_retried_then_fails_after_bounded_retries) {
  auto client = make(3);
  fake().script("/api/players/.*", {scripted_answer::malformed_json().times(10)});
  auto page = client.list_matches(300, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::failed));
  BOOST_TEST(page.error.find("malformed JSON") != std::string::npos);
  BOOST_TEST(page.error.find("4 attempts") != std::string::npos);
  BOOST_TEST(page.stats.requests == 4);
  BOOST_TEST(fake().log().size() == 4u);
}

BOOST_AUTO_TEST_CASE(one_malformed_answer_is_retried_to_success) {
  auto client = make();
  fake().script(".*", {scripted_answer::malformed_json()});
  auto page = client.list_matches(300, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok));
  BOOST_TEST(page.data.size() == 100u);
  BOOST_TEST(page.stats.statuses == (std::vector<int>{200, 200}));
}

BOOST_AUTO_TEST_CASE(a_wrongly_shaped_answer_is_retried) {
  auto client = make();
  fake().script("/api/players/.*",
                {scripted_answer::http_status(200, R"({"error":"busy"})")});
  fake().script("/api/matches/.*", {scripted_answer::http_status(200, "[]")});
  BOOST_TEST((client.list_matches(3, 10, 0, token).kind == result_kind::ok));
  BOOST_TEST((client.match_detail(fake_opendota::match_id(3, 1), token).kind ==
              result_kind::ok));
  BOOST_TEST(fake().log().size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_connection_reset_is_retried) {
  auto client = make();
  fake().script(".*", {scripted_answer::connection_reset()});
  auto d = client.match_detail(fake_opendota::match_id(42, 1), token);
  BOOST_TEST((d.kind == result_kind::ok));
  BOOST_TEST(d.stats.statuses == (std::vector<int>{0, 200}));
}

BOOST_AUTO_TEST_CASE(a_truncated_body_is_retried) {
  auto client = make();
  fake().script(".*", {scripted_answer::truncated_body()});
  auto d = client.match_detail(fake_opendota::match_id(42, 1), token);
  BOOST_TEST((d.kind == result_kind::ok));
  BOOST_TEST(d.stats.statuses == (std::vector<int>{0, 200}));
}

BOOST_AUTO_TEST_CASE(a_timeout_is_retried) {
  http_client_options o;
  o.base_url = fake().url();
  o.timeout = 300ms;
  o.backoff = {10ms, 100ms};
  http_client client(o, budget);
  fake().script(".*", {scripted_answer::delayed(1500)});
  auto d = client.match_detail(fake_opendota::match_id(42, 1), token);
  BOOST_TEST((d.kind == result_kind::ok));
  BOOST_TEST(d.stats.statuses == (std::vector<int>{0, 200}));
}

BOOST_AUTO_TEST_CASE(server_errors_exhaust_the_retries_then_fail_clearly) {
  auto client = make(2);
  fake().script(".*", {scripted_answer::http_status(503).times(5)});
  auto d = client.match_detail(fake_opendota::match_id(42, 1), token);
  BOOST_TEST((d.kind == result_kind::failed));
  BOOST_TEST(d.error.find("HTTP 503") != std::string::npos);
  BOOST_TEST(d.error.find("3 attempts") != std::string::npos);
  BOOST_TEST(d.error.find("/api/matches/") != std::string::npos);
  BOOST_TEST(budget.granted == 3);
}

BOOST_AUTO_TEST_CASE(an_unreachable_upstream_fails_after_the_retries) {
  http_client_options o;
  o.base_url = "http://127.0.0.1:1";
  o.max_retries = 1;
  o.backoff = {10ms, 100ms};
  http_client client(o, budget);
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::failed));
  BOOST_TEST(page.error.find("no complete answer") != std::string::npos);
  BOOST_TEST(page.stats.statuses == (std::vector<int>{0, 0}));
}

BOOST_AUTO_TEST_CASE(cancel_during_a_slow_request_returns_promptly) {
  auto client = make();
  fake().script(".*", {scripted_answer::delayed(5000)});
  std::atomic<bool> done{false};
  detail_result result;
  std::thread call([&] {
    result = client.match_detail(fake_opendota::match_id(42, 1), token);
    done = true;
  });
  // Cancel once the request is in flight at the fake.
  BOOST_TEST_REQUIRE(fake().wait_for_requests("/api/matches/.*", 1, 5s));
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  BOOST_TEST(wait_until([&] { return done.load(); }, 4s));
  auto took = ms_since(cancelled_at);
  call.join();
  BOOST_TEST_MESSAGE("cancel took " << took << " ms");
  BOOST_TEST((result.kind == result_kind::cancelled));
  // Not a speed target (this suite runs under TSan too): the call did not
  // wait for the fake's answer, 5 s after the request.
  BOOST_TEST(took < 2500);
  // Nothing more was asked, even though the fake had not answered yet.
  auto log = fake().log();
  BOOST_TEST(log.size() == 1u);
  BOOST_TEST(log.at(0).done == false);
}

BOOST_AUTO_TEST_CASE(cancel_during_a_retry_after_wait_returns_promptly) {
  auto client = make();
  fake().script(".*", {scripted_answer::too_many_requests(30)});
  list_result result;
  auto call = start_waiting_after(1, [&] { result = client.list_matches(5, 100, 0, token); });
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  call.join();
  BOOST_TEST(ms_since(cancelled_at) < 15000);  // not the 30 s wait
  BOOST_TEST((result.kind == result_kind::cancelled));
  BOOST_TEST(result.stats.requests == 1);
  BOOST_TEST(fake().log().size() == 1u);
}

BOOST_AUTO_TEST_CASE(cancel_while_waiting_for_the_budget_makes_no_request) {
  local_rate_budget slow_budget(1);
  cancel_token first;
  BOOST_TEST_REQUIRE(slow_budget.acquire(first));
  http_client_options o;
  o.base_url = fake().url();
  http_client client(o, slow_budget);
  list_result page;
  // Waits in the budget (one request a minute, the one slot taken).
  auto call = start_waiting_after(0, [&] { page = client.list_matches(5, 100, 0, token); });
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  call.join();
  BOOST_TEST((page.kind == result_kind::cancelled));
  BOOST_TEST(ms_since(cancelled_at) < 30000);  // not the minute's wait
  BOOST_TEST(page.stats.requests == 0);
  BOOST_TEST(fake().log().empty());
}

BOOST_AUTO_TEST_CASE(an_already_cancelled_token_makes_no_request) {
  auto client = make();
  token.cancel();
  auto d = client.match_detail(fake_opendota::match_id(42, 1), token);
  BOOST_TEST((d.kind == result_kind::cancelled));
  BOOST_TEST(budget.granted == 0);
  BOOST_TEST(fake().log().empty());
}

BOOST_AUTO_TEST_CASE(the_client_is_reusable_after_a_cancelled_call) {
  auto client = make();
  fake().script(".*", {scripted_answer::delayed(5000)});
  std::thread call([&] { client.match_detail(fake_opendota::match_id(42, 1), token); });
  BOOST_TEST_REQUIRE(fake().wait_for_requests(".*", 1, 5s));
  token.cancel();
  call.join();
  cancel_token fresh;
  auto d = client.match_detail(fake_opendota::match_id(42, 2), fresh);
  BOOST_TEST((d.kind == result_kind::ok));
}

BOOST_AUTO_TEST_CASE(a_second_caller_waiting_its_turn_can_still_cancel) {
  auto client = make();
  fake().script(".*", {scripted_answer::delayed(3000)});
  std::thread first([&] {
    cancel_token own;
    client.match_detail(fake_opendota::match_id(42, 1), own);
  });
  BOOST_TEST_REQUIRE(fake().wait_for_requests(".*", 1, 5s));
  detail_result second;
  auto waiting = start_waiting_after(
    1, [&] { second = client.match_detail(fake_opendota::match_id(42, 2), token); });
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  waiting.join();
  BOOST_TEST(ms_since(cancelled_at) < 1500);  // not the first's 3 s answer
  BOOST_TEST((second.kind == result_kind::cancelled));
  first.join();
  BOOST_TEST(fake().log().size() == 1u);
}

BOOST_AUTO_TEST_CASE(every_attempt_takes_a_budget_slot) {
  auto client = make();
  fake().script(".*", {scripted_answer::http_status(502).times(2)});
  auto d = client.match_detail(fake_opendota::match_id(42, 1), token);
  BOOST_TEST((d.kind == result_kind::ok));
  BOOST_TEST(budget.granted == 3);
  BOOST_TEST(d.stats.requests == 3);
}

BOOST_AUTO_TEST_CASE(a_rate_limit_wait_is_told_before_it_starts_and_a_5xx_is_not) {
  auto client = make();
  std::vector<wait_notice> told;
  std::vector<std::size_t> requests_when_told;
  client.observe_waits([&](const wait_notice& n) {
    told.push_back(n);
    requests_when_told.push_back(fake().log().size());
  });
  fake().script("/api/players/.*", {scripted_answer::http_status(503),
                                     scripted_answer::too_many_requests(1)});
  auto page = client.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok));
  BOOST_TEST_REQUIRE(told.size() == 1u);
  BOOST_TEST((told[0].why == wait_notice::cause::rate_limited));
  BOOST_TEST(told[0].duration.count() == 1000);
  BOOST_TEST(requests_when_told[0] == 2u);  // after the 429, before the retry
  BOOST_TEST(std::string(to_string(told[0].why)) == "rate_limited");
}

// Holds every caller for a fixed time, as a crowded budget would.
struct slow_budget final : rate_budget {
  explicit slow_budget(std::chrono::milliseconds d) : delay(d) {}
  bool acquire(cancel_token& token) override { return token.wait_for(delay); }
  std::chrono::milliseconds delay;
};

BOOST_AUTO_TEST_CASE(only_a_long_budget_wait_is_told_once_it_ended) {
  std::vector<wait_notice> told;
  auto observe = [&](const wait_notice& n) { told.push_back(n); };
  http_client_options o;
  o.base_url = fake().url();
  slow_budget quick(50ms), crowded(client::budget_notice_after + 100ms);
  http_client fast_client(o, quick), slow_client(o, crowded);
  fast_client.observe_waits(observe);
  slow_client.observe_waits(observe);
  BOOST_TEST((fast_client.match_detail(fake_opendota::match_id(42, 1), token).ok()));
  BOOST_TEST(told.empty());
  BOOST_TEST((slow_client.match_detail(fake_opendota::match_id(42, 1), token).ok()));
  BOOST_TEST_REQUIRE(told.size() == 1u);
  BOOST_TEST((told[0].why == wait_notice::cause::budget));
  BOOST_TEST(told[0].duration.count() >= client::budget_notice_after.count());
  BOOST_TEST(std::string(to_string(told[0].why)) == "budget");
}

BOOST_AUTO_TEST_CASE(details_fetched_side_by_side_come_back_in_the_order_asked) {
  auto client = make();
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 9; ++i)
    ids.push_back(fake_opendota::match_id(42, i));
  fake().set_no_details(ids[4]);
  fake().script("/api/matches/" + std::to_string(ids[7]),
                {scripted_answer::http_status(503)});
  auto results = client.match_details(ids, token);
  BOOST_TEST_REQUIRE(results.size() == ids.size());
  for (std::size_t k = 0; k < ids.size(); ++k) {
    BOOST_TEST_CONTEXT("id " << k) {
      if (k == 4) {
        BOOST_TEST((results[k].kind == result_kind::not_found));
      } else {
        BOOST_TEST_REQUIRE((results[k].kind == result_kind::ok));
        BOOST_TEST(nlohmann::json::parse(results[k].text)["match_id"].get<std::int64_t>() ==
                   ids[k]);
      }
    }
  }
  BOOST_TEST(results[7].stats.statuses == (std::vector<int>{503, 200}));
  // Every request, retries included, took its own budget slot.
  BOOST_TEST(budget.granted == 10);
  BOOST_TEST(fake().log().size() == 10u);
}

BOOST_AUTO_TEST_CASE(a_cancel_ends_every_detail_request_in_flight_at_once) {
  auto client = make();
  fake().set_latency(5000);
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 6; ++i)
    ids.push_back(fake_opendota::match_id(42, i));
  std::atomic<bool> done{false};
  std::vector<detail_result> results;
  std::thread call([&] {
    results = client.match_details(ids, token);
    done = true;
  });
  // Four requests at the fake at once: the four lanes are all in flight.
  BOOST_TEST_REQUIRE(fake().wait_for_requests("/api/matches/.*", 4, 4s));
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  BOOST_TEST(wait_until([&] { return done.load(); }, 4s));
  auto took = ms_since(cancelled_at);
  call.join();
  BOOST_TEST_MESSAGE("cancel of 4 lanes took " << took << " ms");
  BOOST_TEST(took < 2500);  // not the 5 s answers
  BOOST_TEST_REQUIRE(results.size() == ids.size());
  for (auto& r : results)
    BOOST_TEST((r.kind == result_kind::cancelled));
  // No lane started another request after the cancel.
  BOOST_TEST(fake().log().size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_daily_limit_among_details_stops_every_lane) {
  auto client = make();
  fake().script(".*", std::vector<scripted_answer>(12, scripted_answer::daily_limit()));
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 12; ++i)
    ids.push_back(fake_opendota::match_id(42, i));
  auto results = client.match_details(ids, token);
  BOOST_TEST_REQUIRE(results.size() == ids.size());
  int limited = 0;
  for (auto& r : results) {
    BOOST_TEST((r.kind == result_kind::daily_limit || r.kind == result_kind::cancelled));
    limited += r.kind == result_kind::daily_limit ? 1 : 0;
  }
  BOOST_TEST(limited >= 1);
  // Each lane stops at its first answer: at most one request per lane.
  BOOST_TEST(fake().log().size() <= 4u);
  BOOST_TEST(fake().log().size() == static_cast<std::size_t>(limited));
}

BOOST_AUTO_TEST_CASE(one_lane_fetches_details_one_after_another) {
  http_client_options o;
  o.base_url = fake().url();
  o.detail_lanes = 1;
  o.timeout = 5s;
  http_client client(o, budget);
  fake().script(".*", {scripted_answer::pass(), scripted_answer::daily_limit()});
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 5; ++i)
    ids.push_back(fake_opendota::match_id(42, i));
  auto results = client.match_details(ids, token);
  BOOST_TEST_REQUIRE(results.size() == ids.size());
  BOOST_TEST((results[0].kind == result_kind::ok));
  BOOST_TEST((results[1].kind == result_kind::daily_limit));
  for (std::size_t k = 2; k < ids.size(); ++k)
    BOOST_TEST((results[k].kind == result_kind::cancelled));
  BOOST_TEST(fake().log().size() == 2u);
}

// Issue 16: a step's batch is bounded by bytes as well as by count, so
// that 20 parsed details (250 KB each) are not 5 MB held at once.
namespace {
// Details of ~20 KB, batches cut at 45 KB.
std::vector<detail_result> capped_details(counting_budget& budget, cancel_token& token,
                                          int lanes, int count) {
  http_client_options o;
  o.base_url = fake().url();
  o.detail_lanes = lanes;
  o.timeout = 5s;
  o.batch_bytes = 45000;
  http_client client(o, budget);
  fake().set_detail_size(20000);
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= count; ++i)
    ids.push_back(fake_opendota::match_id(42, i));
  return client.match_details(ids, token);
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_batch_takes_no_further_id_once_its_details_reach_batch_bytes) {
  auto results = capped_details(budget, token, 1, 10);
  BOOST_TEST_REQUIRE(results.size() == 10u);
  // 3 x ~20 KB reach 45 KB: the third is kept, no fourth is asked.
  std::size_t held = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    BOOST_TEST((results[k].kind == result_kind::ok));
    held += results[k].text.size();
  }
  BOOST_TEST(held >= 45000u);
  BOOST_TEST(held - results[2].text.size() < 45000u);
  for (std::size_t k = 3; k < results.size(); ++k)
    BOOST_TEST((results[k].kind == result_kind::cancelled));
  BOOST_TEST(!token.cancelled());
  BOOST_TEST(fake().log().size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_batch_cut_by_bytes_on_several_lanes_answers_a_prefix) {
  fake().set_latency(20);  // every lane in use
  auto results = capped_details(budget, token, 4, 20);
  BOOST_TEST_REQUIRE(results.size() == 20u);
  std::size_t answered = 0;
  while (answered < results.size() && results[answered].kind == result_kind::ok)
    ++answered;
  for (auto k = answered; k < results.size(); ++k)
    BOOST_TEST((results[k].kind == result_kind::cancelled));
  // At least up to the bound, at most a request per lane beyond it.
  BOOST_TEST(answered >= 3u);
  BOOST_TEST(answered <= 3u + 3u);
  BOOST_TEST(fake().log().size() == answered);
}

// Arrival times (fake's clock, ms) of the API requests logged from `since`.
std::vector<double> arrivals(fake_opendota& f, std::size_t since) {
  std::vector<double> out;
  for (auto& r : f.log(since))
    out.push_back(r.t_ms);
  return out;
}

// A client whose lanes count a round trip within `quick` as quick.
http_client_options lanes_options(std::chrono::microseconds quick) {
  http_client_options o;
  o.base_url = fake().url();
  o.timeout = 5s;
  o.quick_round_trip = quick;
  return o;
}

// Times the upstream with a first batch of 8 details, then fetches a
// second batch of 4 and returns when each of those reached the fake.
std::vector<double> second_batch_arrivals(http_client& client, cancel_token& token) {
  std::vector<std::int64_t> first, second;
  for (int i = 1; i <= 8; ++i)
    first.push_back(fake_opendota::match_id(42, i));
  for (int i = 9; i <= 12; ++i)
    second.push_back(fake_opendota::match_id(42, i));
  for (auto& r : client.match_details(first, token))
    BOOST_TEST_REQUIRE(r.ok());
  auto since = fake().log().size();
  for (auto& r : client.match_details(second, token))
    BOOST_TEST_REQUIRE(r.ok());
  return arrivals(fake(), since);
}

// Lanes follow the upstream's round trip (lane_count.hpp): a quick upstream
// is fetched on one connection once its answers were timed.
BOOST_AUTO_TEST_CASE(a_quick_upstream_is_fetched_on_one_lane_once_timed) {
  // Far above a loopback round trip, even on a loaded machine.
  http_client client(lanes_options(50ms), budget);
  // The second batch answers slowly: one lane asks for the next only after
  // each answer. (The lanes were counted before, from the first batch.)
  auto first = scripted_answer::pass();
  first.repeat = 8;
  auto slow = scripted_answer::delayed(150);
  slow.repeat = 4;
  fake().script(".*", {first, slow});
  auto t = second_batch_arrivals(client, token);
  BOOST_TEST_REQUIRE(t.size() == 4u);
  for (std::size_t k = 1; k < t.size(); ++k)
    BOOST_TEST(t[k] - t[k - 1] >= 140.0, "request " << k << " came " << t[k] - t[k - 1]
                                                    << " ms after the one before");
}

BOOST_AUTO_TEST_CASE(a_slow_upstream_keeps_every_lane) {
  http_client client(lanes_options(5ms), budget);
  fake().set_latency(400);
  auto t = second_batch_arrivals(client, token);
  BOOST_TEST_REQUIRE(t.size() == 4u);
  auto [lo, hi] = std::minmax_element(t.begin(), t.end());
  // Four lanes ask at once; one would space them by the 400 ms round trip
  // (long enough that a TSan build's slowness does not blur the two).
  BOOST_TEST(*hi - *lo < 300.0, "the four requests came within " << *hi - *lo << " ms");
}

// Established TCP connections to `port` from this machine's clients, read
// from /proc/net/tcp (remote address column; state 01 = ESTABLISHED).
int connections_to(int port) {
  std::ifstream in("/proc/net/tcp");
  BOOST_REQUIRE_MESSAGE(in, "/proc/net/tcp is unreadable: connections cannot be counted");
  std::string line;
  std::getline(in, line);  // header
  int n = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    auto colon = remote.find(':');
    if (colon != std::string::npos && state == "01" &&
        std::stoi(remote.substr(colon + 1), nullptr, 16) == port)
      ++n;
  }
  return n;
}

// A connection is kept alive within one call only: a job waiting between
// steps (thousands of them on a busy node) holds none to the upstream.
BOOST_AUTO_TEST_CASE(no_connection_is_kept_after_a_call) {
  auto client = make();
  std::vector<std::int64_t> ids;
  for (int i = 1; i <= 8; ++i)
    ids.push_back(fake_opendota::match_id(42, i));
  // The count sees a connection that is open: a call in flight holds one.
  {
    fake().script(".*", {scripted_answer::delayed(5000)});
    cancel_token in_flight;
    std::thread call([&] { client.match_detail(ids[0], in_flight); });
    BOOST_TEST(wait_until([&] { return connections_to(fake().port()) >= 1; }, 5s));
    in_flight.cancel();
    call.join();
    fake().reset();
  }
  for (auto& r : client.match_details(ids, token))
    BOOST_TEST_REQUIRE(r.ok());
  BOOST_TEST(connections_to(fake().port()) == 0);
  BOOST_TEST((client.match_detail(ids[0], token).ok()));
  BOOST_TEST((client.list_matches(42, 10, 0, token).ok()));
  BOOST_TEST(connections_to(fake().port()) == 0);
}

BOOST_AUTO_TEST_CASE(zero_detail_lanes_is_refused) {
  http_client_options o;
  o.base_url = fake().url();
  o.detail_lanes = 0;
  BOOST_CHECK_THROW(http_client(o, budget), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_base_path_prefix_is_kept) {
  http_client_options o;
  o.base_url = fake().url() + "/prefix/";
  o.max_retries = 0;
  http_client client(o, budget);
  client.match_detail(1, token);
  BOOST_TEST(fake().log().at(0).path == "/prefix/api/matches/1");
}

BOOST_AUTO_TEST_SUITE_END()
