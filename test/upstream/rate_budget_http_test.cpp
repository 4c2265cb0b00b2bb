// The rate budget as the upstream sees it: many concurrent clients sharing
// one local_rate_budget for 10 s, retries included; the fake's request log
// (receive times) must show no window of T s with more than rate*T/60 + 1
// starts, and the full rate must actually be used.
#define BOOST_TEST_MODULE rate_budget_http
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "test/fake_opendota/fake_server.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/http_client.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync::upstream;
using matchsync::test::fake_opendota;
using namespace std::chrono_literals;

namespace {

// The most starts in a half-open window [t, t + T) starting at a start.
// Half-open: the budget spaces slot times exactly; a start is observed a
// little after its slot (wake-up, loopback), and a closed window of exactly
// n intervals could then catch the late first start and an on-time last one.
std::size_t max_in_window(const std::vector<double>& starts_ms,
                          double window_ms) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < starts_ms.size(); ++i) {
    auto end = std::lower_bound(starts_ms.begin() + i, starts_ms.end(),
                                starts_ms[i] + window_ms);
    best = std::max(best, static_cast<std::size_t>(end - (starts_ms.begin() + i)));
  }
  return best;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rate_budget_http)

BOOST_AUTO_TEST_CASE(many_clients_share_the_budget_over_ten_seconds) {
  constexpr int rate = 120;  // one start per 500 ms
  constexpr int callers = 8;
  fake_opendota fake;
  // The first answers fail so that retries must go through the budget too.
  fake.script(".*", {matchsync::test::scripted_answer::http_status(503).times(3)});
  fake.set_latency(5, 20, 3);

  local_rate_budget budget(rate);
  cancel_token stop;
  std::atomic<int> calls{0};
  std::atomic<int> not_ok{0};
  std::vector<std::thread> threads;
  auto began = std::chrono::steady_clock::now();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      http_client_options o;
      o.base_url = fake.url();
      o.backoff = {50ms, 200ms};
      o.seed = 100 + c;
      http_client client(o, budget);
      for (int i = 0; !stop.cancelled(); ++i) {
        auto r = client.match_detail(fake_opendota::match_id(900, i % 900), stop);
        ++calls;
        if (r.kind != result_kind::ok && r.kind != result_kind::cancelled)
          ++not_ok;
      }
    });
  }
  std::this_thread::sleep_for(10s);
  stop.cancel();
  // Slots are granted only before the cancel; on a loaded machine the
  // threads' start and this thread's wake-up stretch the run past 10 s.
  double ran_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  for (auto& t : threads)
    t.join();

  auto log = fake.log();
  std::vector<double> starts;
  for (const auto& r : log)
    starts.push_back(r.t_ms);
  std::sort(starts.begin(), starts.end());
  BOOST_TEST_MESSAGE(log.size() << " requests, " << calls << " calls in " << ran_s << " s");

  // The budget was used, not merely respected: ~2 per second for 10 s, less
  // one slot for a clock minute's edge (a slot too near it moves past it, as
  // the upstream counts per clock minute), and one for the threads' start;
  // and never more than one start per 500 ms over the whole run.
  BOOST_TEST(starts.size() >= 18u);
  BOOST_TEST(starts.size() <= static_cast<std::size_t>(rate * ran_s / 60.0) + 1,
             starts.size() << " starts in " << ran_s << " s");
  BOOST_TEST(not_ok == 0);
  for (double t : {0.5, 1.0, 2.0, 3.0, 5.0, 10.0}) {
    auto limit = static_cast<std::size_t>(rate * t / 60.0) + 1;
    BOOST_TEST(max_in_window(starts, t * 1000.0) <= limit, "window " << t << " s");
  }
  // The retries happened, and are among the starts counted above.
  auto retried = std::count_if(log.begin(), log.end(),
                               [](const auto& r) { return r.status == 503; });
  BOOST_TEST(retried == 3);
}

BOOST_AUTO_TEST_SUITE_END()
