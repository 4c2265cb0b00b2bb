// The budget against an upstream that counts per clock minute, as OpenDota
// does (the fake's limiter): 60 per minute, five minutes of queued work.
// The one test that needs real minutes (issue 15): the fake counts on its
// own wall clock, which no manual clock can move.
#define BOOST_TEST_MODULE clock_minute_http
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "test/fake_opendota/fake_server.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/http_client.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync::upstream;
using matchsync::test::fake_opendota;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(clock_minute_http)

BOOST_AUTO_TEST_CASE(sixty_per_minute_uses_each_clock_minute_and_never_hears_429) {
  constexpr int rate = 60;
  fake_opendota fake;
  matchsync::test::quota_limits limits;
  limits.per_minute = rate;
  fake.set_limits(limits);
  fake.set_latency(5, 30, 5);

  local_rate_budget budget(rate);
  cancel_token stop;
  std::vector<std::thread> threads;
  for (int c = 0; c < 6; ++c) {
    threads.emplace_back([&, c] {
      http_client_options o;
      o.base_url = fake.url();
      o.seed = 200 + c;
      http_client client(o, budget);
      for (int i = 0; !stop.cancelled(); ++i)
        client.match_detail(fake_opendota::match_id(900, (c * 150 + i) % 900), stop);
    });
  }
  // Five whole clock minutes after the one the run starts in.
  auto minute_of = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
  };
  auto first_full = minute_of(std::chrono::system_clock::now()) + 1;
  while (minute_of(std::chrono::system_clock::now()) < first_full + 5)
    std::this_thread::sleep_for(200ms);  // the run's length, not a synchronisation
  stop.cancel();
  for (auto& t : threads)
    t.join();

  // The fake's receive times on the wall clock: its monotonic ms mapped
  // through the moment the log was read.
  auto answer = fake.control("GET", "/_control/log");
  auto wall_now_ms = std::chrono::duration<double, std::milli>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  auto fake_now_ms = answer.at("now_ms").get<double>();
  std::map<std::int64_t, int> per_minute;
  int refused = 0;
  for (const auto& r : answer.at("requests")) {
    auto wall_ms = wall_now_ms - (fake_now_ms - r.at("t_ms").get<double>());
    per_minute[static_cast<std::int64_t>(wall_ms / 60000.0)] += 1;
    refused += r.at("status").get<int>() == 429 ? 1 : 0;
  }
  BOOST_TEST(refused == 0);
  for (auto m = first_full; m < first_full + 5; ++m) {
    BOOST_TEST(per_minute[m] >= rate * 95 / 100, "minute " << m << ": " << per_minute[m]);
    BOOST_TEST(per_minute[m] <= rate, "minute " << m << ": " << per_minute[m]);
    BOOST_TEST_MESSAGE("minute " << m << ": " << per_minute[m] << " requests");
  }
}

BOOST_AUTO_TEST_SUITE_END()
