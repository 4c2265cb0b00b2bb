// local_rate_budget on a manual clock: the window property, fair shares
// between jobs (fewest recent grants first, small jobs' head start) and
// cancellation, checked exactly (a discrete-event run: the test moves the
// clock only when every caller is asleep).
#define BOOST_TEST_MODULE rate_budget
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test/support/process.hpp"
#include "test/upstream/manual_time_source.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/quota_day.hpp"
#include "upstream/rate_budget.hpp"

using matchsync::test::manual_time_source;
using matchsync::test::wait_until;
using matchsync::upstream::cancel_token;
using matchsync::upstream::local_rate_budget;
using namespace std::chrono_literals;
using clock_type = matchsync::upstream::time_source::clock;

namespace {

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Runs `callers` threads that each acquire `per_caller` times, thinking a
// seeded random time (0..max_think) on the manual clock between acquires.
// Returns every start time, sorted. The clock moves only when all threads
// sleep, to the earliest deadline, so each start is recorded at exactly its
// slot. Boost.Test is not thread-safe: threads only count failures.
struct run_result {
  std::vector<clock_type::time_point> starts;
  int refused = 0;
  bool stalled = false;
};

run_result simulate(local_rate_budget& budget, manual_time_source& time,
                    int callers, int per_caller,
                    std::chrono::milliseconds max_think) {
  std::mutex mutex;
  run_result out;
  std::atomic<int> finished{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937 rng(1000 + c);
      std::uniform_int_distribution<int> think(
        0, static_cast<int>(max_think.count()));
      cancel_token token;
      for (int i = 0; i < per_caller; ++i) {
        if (!budget.acquire(token)) {
          ++refused;
          break;
        }
        {
          std::lock_guard<std::mutex> lock(mutex);
          out.starts.push_back(time.now());
        }
        auto pause = std::chrono::milliseconds(think(rng));
        if (pause.count() > 0)
          time.sleep_until(time.now() + pause, token);
      }
      ++finished;
      time.poke();
    });
  }
  while (finished < callers) {
    bool quiet = time.wait_for_sleepers(
      [&] { return static_cast<std::size_t>(callers - finished.load()); });
    if (!quiet) {
      out.stalled = true;
      break;
    }
    if (auto next = time.next_deadline())
      time.advance_to(*next);
  }
  for (auto& t : threads)
    t.join();
  std::sort(out.starts.begin(), out.starts.end());
  out.refused = refused;
  return out;
}

// The most starts in any closed window [s, s + T], over windows beginning at
// a start (the worst windows begin at one).
std::size_t max_in_window(const std::vector<clock_type::time_point>& starts,
                          clock_type::duration window) {
  std::size_t best = 0;
  for (std::size_t i = 0; i < starts.size(); ++i) {
    std::size_t n = 0;
    for (std::size_t j = i; j < starts.size() && starts[j] <= starts[i] + window; ++j)
      ++n;
    best = std::max(best, n);
  }
  return best;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rate_budget)

BOOST_AUTO_TEST_CASE(interval_is_a_minute_divided_by_the_rate) {
  manual_time_source time;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(
               local_rate_budget(60, time).interval())
               .count() == 1000);
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(
               local_rate_budget(120, time).interval())
               .count() == 500);
  BOOST_CHECK_THROW(local_rate_budget(-1, time), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(no_window_of_t_seconds_holds_more_than_rate_t_over_60_plus_one) {
  for (int rate : {60, 120, 7, 600}) {
    manual_time_source time;
    local_rate_budget budget(rate, time);
    auto run = simulate(budget, time, 5, 40, 3000ms);
    BOOST_TEST_REQUIRE(!run.stalled);
    BOOST_TEST_REQUIRE(run.refused == 0);
    const auto& starts = run.starts;
    BOOST_TEST_REQUIRE(starts.size() == 200u);
    for (double t : {0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0}) {
      auto window = std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(t));
      auto limit = static_cast<std::size_t>(rate * t / 60.0) + 1;
      BOOST_TEST(max_in_window(starts, window) <= limit,
                 "rate " << rate << " window " << t << "s");
    }
  }
}

BOOST_AUTO_TEST_CASE(busy_callers_get_the_full_rate_evenly_spread) {
  manual_time_source time;
  // In phase with the clock-minute rule (starts a quarter second off the
  // minute's edges): a start that falls near an edge moves past it once,
  // which is the rule's own test below.
  time.set_wall_now(std::chrono::seconds(1796083200 + 30) + 250ms);
  local_rate_budget budget(120, time);
  auto run = simulate(budget, time, 4, 25, 0ms);
  BOOST_TEST_REQUIRE(!run.stalled);
  const auto& starts = run.starts;
  BOOST_TEST_REQUIRE(starts.size() == 100u);
  // Back to back: exactly one interval apart, no idle slot, no burst.
  for (std::size_t i = 1; i < starts.size(); ++i)
    BOOST_TEST(seconds_between(starts[i - 1], starts[i]) == 0.5);
}

BOOST_AUTO_TEST_CASE(the_first_request_of_an_idle_budget_starts_at_once) {
  manual_time_source time;
  local_rate_budget budget(1, time);
  cancel_token token;
  auto before = time.now();
  BOOST_TEST(budget.acquire(token));
  BOOST_TEST((time.now() == before));
}

BOOST_AUTO_TEST_CASE(waiting_callers_start_in_arrival_order) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  cancel_token token;
  BOOST_TEST_REQUIRE(budget.acquire(token));  // takes the current slot
  std::mutex mutex;
  std::vector<std::string> order;
  std::vector<std::thread> threads;
  for (std::string name : {"a", "b", "c"}) {
    threads.emplace_back([&, name] {
      cancel_token own;
      bool granted = budget.acquire(own);
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back(granted ? name : "refused");
    });
    // The next caller arrives only once this one is queued.
    BOOST_TEST_REQUIRE(time.wait_for_sleepers(threads.size()));
  }
  for (std::size_t woken = 1; woken <= 3; ++woken) {
    time.advance(1s);
    BOOST_TEST_REQUIRE(wait_until(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        return order.size() == woken;
      },
      5s));
    // Nobody else was granted with it: the others sleep again (every
    // waiter looks at each slot, so one may still be on its way back: under
    // TSan it was, 1 != 2), and the order has this one alone.
    BOOST_TEST(time.wait_for_sleepers(3 - woken));
    std::lock_guard<std::mutex> lock(mutex);
    BOOST_TEST(order.size() == woken);
  }
  for (auto& t : threads)
    t.join();
  BOOST_TEST((order == std::vector<std::string>{"a", "b", "c"}));
}

BOOST_AUTO_TEST_CASE(two_busy_callers_alternate_so_neither_starves) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  std::mutex mutex;
  std::vector<int> order;
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  cancel_token mine;
  BOOST_TEST_REQUIRE(budget.acquire(mine));  // both callers have to queue
  for (int who : {0, 1}) {
    threads.emplace_back([&, who] {
      cancel_token token;
      for (int i = 0; i < 10; ++i) {
        bool granted = budget.acquire(token);
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(granted ? who : -1);
      }
      ++finished;
      time.poke();
    });
    BOOST_TEST_REQUIRE(time.wait_for_sleepers(threads.size()));
  }
  while (finished < 2) {
    if (!time.wait_for_sleepers(
          [&] { return static_cast<std::size_t>(2 - finished.load()); }))
      break;
    if (auto next = time.next_deadline())
      time.advance_to(*next);
  }
  for (auto& t : threads)
    t.join();
  BOOST_TEST_REQUIRE(order.size() == 20u);
  BOOST_TEST(order[0] == 0);
  for (std::size_t i = 1; i < order.size(); ++i)
    BOOST_TEST(order[i] != order[i - 1], "position " << i);
  BOOST_TEST(std::count(order.begin(), order.end(), 0) == 10);
  BOOST_TEST(std::count(order.begin(), order.end(), 1) == 10);
}

BOOST_AUTO_TEST_CASE(cancel_ends_a_wait_without_the_clock_moving) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  cancel_token first;
  BOOST_TEST_REQUIRE(budget.acquire(first));
  cancel_token token;
  std::atomic<int> result{-1};
  std::thread waiter([&] { result = budget.acquire(token) ? 1 : 0; });
  BOOST_TEST_REQUIRE(time.wait_for_sleepers(1));
  auto before = time.now();
  token.cancel();
  waiter.join();
  BOOST_TEST(result == 0);
  BOOST_TEST((time.now() == before));
}

// A waiter holds no slot until one is due (slots are decided at their time,
// for the job ranked first then), so a cancel takes none with it: the next
// caller gets the slot the cancelled one waited for.
BOOST_AUTO_TEST_CASE(a_cancelled_waiter_takes_no_slot_with_it) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  auto t0 = time.now();
  cancel_token first;
  BOOST_TEST_REQUIRE(budget.acquire(first));
  cancel_token token;
  std::thread waiter([&] { budget.acquire(token); });
  BOOST_TEST_REQUIRE(time.wait_for_sleepers(1));
  BOOST_TEST((time.next_deadline() == t0 + 1s));
  token.cancel();
  waiter.join();
  // The next caller gets the freed slot at t0 + 1 s, not t0 + 2 s.
  cancel_token next;
  std::atomic<int> granted{-1};
  std::thread again([&] { granted = budget.acquire(next) ? 1 : 0; });
  BOOST_TEST_REQUIRE(time.wait_for_sleepers(1));
  BOOST_TEST((time.next_deadline() == t0 + 1s));
  time.advance(1s);
  again.join();
  BOOST_TEST(granted == 1);
  BOOST_TEST((time.now() == t0 + 1s));
}

BOOST_AUTO_TEST_CASE(a_cancelled_token_gets_no_slot_at_all) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  cancel_token cancelled;
  cancelled.cancel();
  BOOST_TEST(!budget.acquire(cancelled));
  cancel_token token;
  auto before = time.now();
  BOOST_TEST(budget.acquire(token));  // still immediate: nothing was used
  BOOST_TEST((time.now() == before));
}

BOOST_AUTO_TEST_CASE(zero_means_unlimited) {
  manual_time_source time;
  local_rate_budget budget(0, time);
  cancel_token token;
  for (int i = 0; i < 1000; ++i)
    BOOST_REQUIRE(budget.acquire(token));
  BOOST_TEST(time.sleepers() == 0u);
  token.cancel();
  BOOST_TEST(!budget.acquire(token));
}

BOOST_AUTO_TEST_CASE(cancel_interrupts_a_real_minute_long_wait_promptly) {
  local_rate_budget budget(1);  // the steady clock: the next slot is 60 s away
  cancel_token first;
  BOOST_TEST_REQUIRE(budget.acquire(first));
  cancel_token token;
  std::atomic<int> result{-1};
  // Returns once the waiter sleeps in the budget's wait.
  auto waiter = matchsync::test::start_blocked([&] { result = budget.acquire(token) ? 1 : 0; });
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  waiter.join();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - cancelled_at);
  BOOST_TEST(result == 0);
  // Not a speed target (this suite runs under TSan too): not the minute.
  BOOST_TEST(took.count() < 30000);
}

BOOST_AUTO_TEST_SUITE_END()

// The clock-minute rule (minute_rule.hpp) alone, then in the budget.
BOOST_AUTO_TEST_SUITE(clock_minute_rule)

using matchsync::upstream::minute_tally;
using matchsync::upstream::wall_duration;

namespace {
wall_duration at(std::int64_t minute, double seconds) {
  return std::chrono::duration_cast<wall_duration>(std::chrono::minutes(minute) +
                                                   std::chrono::duration<double>(seconds));
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_start_inside_a_minute_stays_where_it_is) {
  using matchsync::upstream::place_in_clock_minute;
  BOOST_TEST((place_in_clock_minute(at(7, 30), 60, at(0, 0.5), {}) == at(7, 30)));
  BOOST_TEST((place_in_clock_minute(at(7, 0.5), 60, at(0, 0.5), {7, 59}) == at(7, 0.5)));
}

BOOST_AUTO_TEST_CASE(a_start_near_a_boundary_moves_past_it_by_the_margin) {
  using matchsync::upstream::place_in_clock_minute;
  BOOST_TEST((place_in_clock_minute(at(7, 0.1), 60, at(0, 0.5), {}) == at(7, 0.5)));
  BOOST_TEST((place_in_clock_minute(at(7, 59.6), 60, at(0, 0.5), {}) == at(8, 0.5)));
  BOOST_TEST((place_in_clock_minute(at(7, 0), 60, at(0, 0.5), {}) == at(7, 0.5)));
}

BOOST_AUTO_TEST_CASE(a_minute_with_rate_starts_sends_the_next_to_the_next_minute) {
  using matchsync::upstream::place_in_clock_minute;
  BOOST_TEST((place_in_clock_minute(at(7, 20), 60, at(0, 0.5), {7, 60}) == at(8, 0.5)));
  BOOST_TEST((place_in_clock_minute(at(7, 20), 60, at(0, 0.5), {6, 60}) == at(7, 20)));
}

BOOST_AUTO_TEST_CASE(tally_counts_per_minute_and_minutes_floor_before_the_epoch) {
  using matchsync::upstream::clock_minute_of;
  using matchsync::upstream::count_start;
  auto t = count_start({}, at(3, 1));
  t = count_start(t, at(3, 59));
  BOOST_TEST(t.minute == 3);
  BOOST_TEST(t.used == 2);
  t = count_start(t, at(4, 0));
  BOOST_TEST(t.used == 1);
  BOOST_TEST(clock_minute_of(at(0, -0.5)) == -1);
  BOOST_TEST(clock_minute_of(at(-1, 0)) == -1);
  BOOST_TEST((matchsync::upstream::next_clock_minute(at(3, 59.9), at(0, 1)) == at(4, 1)));
  BOOST_TEST((matchsync::upstream::edge_margin(at(0, 1)) == at(0, 0.5)));
  BOOST_TEST((matchsync::upstream::edge_margin(at(0, 8.5)) == at(0, 1)));
}

// Busy callers over five clock minutes, from a start just before a boundary:
// at most `rate` starts in each clock minute, none within the margin of an
// edge, and at least 95 % of each full minute's budget used.
BOOST_AUTO_TEST_CASE(no_clock_minute_gets_more_than_rate_starts_and_full_minutes_are_used) {
  for (int rate : {60, 120, 7}) {
    manual_time_source time;
    time.set_wall_now(at(29'933'053, 59.8));
    local_rate_budget budget(rate, time);
    auto per_caller = rate * 5 / 4 + 1;
    auto run = simulate(budget, time, 4, per_caller, 0ms);
    BOOST_TEST_REQUIRE(!run.stalled);
    std::map<std::int64_t, int> per_minute;
    auto margin = matchsync::upstream::edge_margin(
      std::chrono::duration_cast<wall_duration>(budget.interval()));
    for (auto s : run.starts) {
      auto wall = time.wall_at(s);
      auto minute = matchsync::upstream::clock_minute_of(wall);
      per_minute[minute] += 1;
      auto into = wall - std::chrono::duration_cast<wall_duration>(std::chrono::minutes(minute));
      BOOST_TEST((into >= margin && into <= std::chrono::minutes(1) - margin),
                 "rate " << rate << ": a start " << std::chrono::duration<double>(into).count()
                         << " s into its minute");
    }
    auto first = per_minute.begin()->first, last = per_minute.rbegin()->first;
    for (auto [minute, n] : per_minute) {
      BOOST_TEST(n <= rate, "rate " << rate << " minute " << minute << ": " << n);
      if (minute != first && minute != last)
        BOOST_TEST(n >= rate * 95 / 100, "rate " << rate << " minute " << minute << ": " << n);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_hold_starts_nothing_before_the_next_clock_minute) {
  manual_time_source time;
  time.set_wall_now(at(29'933'053, 12));
  local_rate_budget budget(60, time);
  cancel_token token;
  BOOST_TEST_REQUIRE(budget.acquire(token));
  budget.hold_until_next_minute();
  std::atomic<bool> granted{false};
  std::thread waiter([&] { granted = budget.acquire(token); });
  BOOST_TEST_REQUIRE(time.wait_for_sleepers(1));
  auto deadline = time.next_deadline();
  BOOST_TEST_REQUIRE(deadline.has_value());
  BOOST_TEST((time.wall_at(*deadline) == at(29'933'054, 0.5)));
  time.advance_to(*deadline);
  waiter.join();
  BOOST_TEST(granted.load());
}

// The lender's side of a hold (SPEC §2: a spent minute holds the whole
// cluster): slots lent to other nodes start after it too.
BOOST_AUTO_TEST_CASE(slots_lent_after_a_hold_start_in_the_next_clock_minute) {
  manual_time_source time;
  time.set_wall_now(at(29'933'053, 30));
  local_rate_budget budget(60, time);
  auto before = budget.lend(2);
  BOOST_TEST_REQUIRE(before.delays_ms.size() == 2u);
  BOOST_TEST(before.delays_ms[0] < 30'000);
  budget.hold_until_next_minute();
  auto after = budget.lend(2);
  BOOST_TEST_REQUIRE(after.delays_ms.size() == 2u);
  for (auto d : after.delays_ms)
    BOOST_TEST(d >= 30'000);
}

// Unlimited, a budget lends nothing (the node needs no slots), except while
// a spent minute holds: then it lends slots at the hold's end, and once the
// hold is over nothing again.
BOOST_AUTO_TEST_CASE(an_unlimited_budget_lends_slots_only_at_the_end_of_a_hold) {
  manual_time_source time;
  time.set_wall_now(at(29'933'053, 40));
  local_rate_budget budget(0, time);
  BOOST_TEST(budget.lend(2).delays_ms.empty());
  budget.hold_until_next_minute();
  auto held = budget.lend(2);
  BOOST_TEST_REQUIRE(held.delays_ms.size() == 2u);
  for (auto d : held.delays_ms)
    BOOST_TEST(d == 21'000);  // 12:01:01, the unlimited budget's 1 s margin
  BOOST_TEST(held.grace_ms > 0);
  time.advance(std::chrono::seconds(21));
  BOOST_TEST(budget.lend(2).delays_ms.empty());
}

// On the steady clock, which moves between any two reads: unlimited and not
// held, nothing is lent (workers then go unlimited for a while; lending them
// slots would make them ask the coordinator every two requests).
BOOST_AUTO_TEST_CASE(an_unlimited_budget_not_held_lends_nothing_on_a_moving_clock) {
  local_rate_budget budget(0);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST_REQUIRE(budget.lend(2).delays_ms.empty());
}

BOOST_AUTO_TEST_CASE(an_unlimited_budget_still_holds) {
  manual_time_source time;
  time.set_wall_now(at(29'933'053, 40));
  local_rate_budget budget(0, time);
  budget.hold_until_next_minute();
  BOOST_TEST((time.wall_at(budget.reserve()) == at(29'933'054, 1)));
}

BOOST_AUTO_TEST_SUITE_END()

// The upstream's day (quota_day.hpp).
BOOST_AUTO_TEST_SUITE(quota_day)

BOOST_AUTO_TEST_CASE(the_day_starts_at_the_configured_minute_utc) {
  using namespace matchsync::upstream;
  const auto dec3 = std::chrono::hours(24 * 20790);  // 2026-12-03T00:00:00Z
  BOOST_TEST(quota_day_date(20790) == "2026-12-03");
  BOOST_TEST(quota_day_date(0) == "1970-01-01");
  BOOST_TEST(quota_day_date(-1) == "1969-12-31");
  BOOST_TEST(quota_day_of(dec3, 0) == 20790);
  BOOST_TEST(quota_day_of(dec3 - std::chrono::seconds(1), 0) == 20789);
  // A day starting at 01:00: 00:30 still belongs to the day before.
  BOOST_TEST(quota_day_of(dec3 + std::chrono::minutes(30), 60) == 20789);
  BOOST_TEST(quota_day_of(dec3 + std::chrono::minutes(60), 60) == 20790);
  BOOST_TEST((next_quota_day(dec3 + std::chrono::minutes(30), 60) ==
              dec3 + std::chrono::minutes(60)));
  BOOST_TEST((next_quota_day(dec3 + std::chrono::hours(5), 0) == dec3 + std::chrono::hours(24)));
}

BOOST_AUTO_TEST_SUITE_END()
