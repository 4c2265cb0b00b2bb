// leased_budget alone: slots come from an ask answered later (or never), a
// cancel wakes a waiting caller at once, with no lock held meanwhile, and
// the slots go to this node's jobs by the fair-share rule.
#define BOOST_TEST_MODULE leased_budget
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "upstream/cancel_token.hpp"
#include "upstream/leased_budget.hpp"

using namespace matchsync::upstream;
using namespace std::chrono_literals;

namespace {

struct lender {
  std::atomic<int> asked{0};
  std::atomic<int> last_count{0};
  std::atomic<std::uint64_t> last_job{0};
  std::mutex mutex;
  std::vector<std::chrono::steady_clock::time_point> times;  // of each ask
  leased_budget::ask_fn fn() {
    return [this](std::int32_t n, job_claim who) {
      last_count = n;
      last_job = who.job;
      {
        std::lock_guard<std::mutex> lock(mutex);
        times.push_back(std::chrono::steady_clock::now());
      }
      ++asked;
    };
  }
  std::chrono::steady_clock::time_point time_of(std::size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    return times.at(i);
  }
};

// Waits until `cond` holds, at most `limit`.
template <class Cond>
bool eventually(Cond cond, std::chrono::milliseconds limit = 3000ms) {
  for (auto end = std::chrono::steady_clock::now() + limit;
       std::chrono::steady_clock::now() < end;) {
    if (cond())
      return true;
    std::this_thread::sleep_for(1ms);  // a poll step inside the deadline
  }
  return cond();
}

}  // namespace

BOOST_AUTO_TEST_CASE(callers_behind_one_ask_share_its_answer) {
  lender l;
  leased_budget budget(l.fn(), 2);
  cancel_token t1, t2;
  auto a = std::async(std::launch::async, [&] { return budget.acquire(t1); });
  auto b = std::async(std::launch::async, [&] { return budget.acquire(t2); });
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 1; }));
  BOOST_TEST(l.last_count == 2);
  budget.grant({0, 0}, 1000);
  BOOST_TEST(a.get());
  BOOST_TEST(b.get());
  BOOST_TEST(l.asked == 1);
}

BOOST_AUTO_TEST_CASE(a_cancel_wakes_a_caller_while_the_lender_is_silent) {
  lender l;
  leased_budget budget(l.fn(), 2, 60s);
  cancel_token asking, waiting;
  auto a = std::async(std::launch::async, [&] { return budget.acquire(asking); });
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 1; }));
  auto b = std::async(std::launch::async, [&] { return budget.acquire(waiting); });
  auto t0 = std::chrono::steady_clock::now();
  waiting.cancel();
  BOOST_REQUIRE(b.wait_for(2s) == std::future_status::ready);
  BOOST_TEST(!b.get());
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 500ms));
  BOOST_TEST((a.wait_for(0ms) == std::future_status::timeout));  // still waiting
  asking.cancel();
  BOOST_REQUIRE(a.wait_for(2s) == std::future_status::ready);
  BOOST_TEST(!a.get());
  BOOST_TEST(l.asked == 1);
  // An already cancelled caller never asks.
  BOOST_TEST(!budget.acquire(asking));
  BOOST_TEST(l.asked == 1);
}

BOOST_AUTO_TEST_CASE(a_refusal_is_asked_again_after_the_retry_and_a_lost_answer_after_the_timeout) {
  lender l;
  leased_budget budget(l.fn(), 1, 300ms);
  cancel_token t;
  auto a = std::async(std::launch::async, [&] { return budget.acquire(t); });
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 1; }));
  auto refused = std::chrono::steady_clock::now();
  budget.refuse(200ms);
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 2; }));
  BOOST_TEST((l.time_of(1) - refused >= 200ms));
  // No answer at all: asked again once the ask timed out (the times of the
  // asks themselves, not of when this thread saw them: a late poll under a
  // sanitizer shortened the gap it measured).
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 3; }));
  BOOST_TEST((l.time_of(2) - l.time_of(1) >= 250ms));
  budget.grant({0}, 1000);
  BOOST_TEST(a.get());
}

BOOST_AUTO_TEST_CASE(slots_are_kept_to_their_time_and_late_ones_dropped) {
  lender l;
  leased_budget budget(l.fn(), 2);
  cancel_token t;
  auto at = leased_budget::clock::now();
  // The first slot is long past its grace, the second due in 100 ms. The
  // grace is 1 s, not less: a wake-up later than the grace drops the second
  // slot too, and the caller would ask a lender that never answers (a hang,
  // under a sanitizer's slow wake-ups).
  budget.grant({-5000, 100}, 1000, at);
  BOOST_TEST(budget.acquire(t));
  BOOST_TEST((leased_budget::clock::now() >= at + 100ms));
  BOOST_TEST(l.asked == 0);
  // An empty grant: no budget configured, no asking for a while.
  budget.grant({}, 0);
  BOOST_TEST(budget.acquire(t));
  BOOST_TEST(l.asked == 0);
}

// A lender's numbers at the int64 limits (a garbled or hostile answer): the
// slot due now is still used at once, without asking; unbounded, the grace
// overflowed in nanoseconds and dropped it as late, and the caller asked.
BOOST_AUTO_TEST_CASE(durations_at_the_int64_limits_are_bounded_before_use) {
  lender l;
  leased_budget budget(l.fn(), 2);
  cancel_token t;
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  budget.grant({lo, 0, hi}, hi);
  auto got = std::async(std::launch::async, [&] { return budget.acquire(t); });
  bool answered = got.wait_for(3s) == std::future_status::ready;
  if (!answered)
    t.cancel();
  BOOST_TEST(answered);
  BOOST_TEST(got.get());
  BOOST_TEST(l.asked == 0);
}

// The upstream said its clock minute is spent: slots leased for before the
// hold's end go unused, a caller starts only after it, and a cancel still
// wakes a caller held.
BOOST_AUTO_TEST_CASE(a_hold_drops_the_slots_before_its_end_and_a_cancel_still_wakes) {
  lender l;
  leased_budget budget(l.fn(), 2);
  auto now = leased_budget::clock::now();
  budget.grant({0, 400}, 1000, now);
  budget.hold_until(now + 300ms);
  cancel_token t;
  BOOST_TEST(budget.acquire(t));
  // The slot at 0 was dropped: the one at 400 ms was used.
  BOOST_TEST((leased_budget::clock::now() - now >= 400ms));
  BOOST_TEST(l.asked == 0);

  // Held with no slot left beyond the hold: the caller waits; a cancel
  // ends the wait at once.
  budget.hold_until(leased_budget::clock::now() + 60s);
  cancel_token held;
  auto a = std::async(std::launch::async, [&] { return budget.acquire(held); });
  BOOST_TEST((a.wait_for(200ms) == std::future_status::timeout));
  BOOST_TEST(l.asked == 0);  // nothing is leased in a spent minute
  held.cancel();
  BOOST_REQUIRE(a.wait_for(2s) == std::future_status::ready);
  BOOST_TEST(!a.get());
}

// A node's own jobs share its leased slots by the rule, not in arrival
// order: a full sync's 4 lanes wait first, then an incremental (declared
// small) asks; the next ask names the incremental, and the next slot due is
// its own though the full sync's lanes came first. Then, not small, the
// job with fewer grants here goes before the one that came first.
BOOST_AUTO_TEST_CASE(a_nodes_leased_slots_go_to_its_jobs_by_the_rule_and_asks_name_the_first) {
  lender l;
  leased_budget budget(l.fn(), 1, 60s);
  cancel_token full_token, small_token;
  std::atomic<int> full_done{0};
  std::vector<std::future<bool>> full;
  for (int lane = 0; lane < 4; ++lane)
    full.push_back(std::async(std::launch::async, [&] {
      bool ok = budget.acquire_as(job_claim(7), full_token);
      ++full_done;
      return ok;
    }));
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 1; }));
  BOOST_TEST(l.last_job == 7u);
  // Job 7 takes one slot: it has had one grant here.
  budget.grant({0}, 1000);
  BOOST_REQUIRE(eventually([&] { return full_done.load() == 1 && l.asked.load() == 2; }));
  std::atomic<bool> small_done{false};
  auto small = std::async(std::launch::async, [&] {
    bool ok = budget.acquire_as(job_claim(9, true), small_token);
    small_done = true;
    return ok;
  });
  // The ask in flight named 7; the incremental is first in line for the
  // next slot all the same.
  BOOST_REQUIRE(eventually([&] { return budget.waiting() == 4u; }));
  budget.grant({0}, 1000);
  BOOST_REQUIRE(eventually([&] { return small_done.load(); }));
  BOOST_TEST(small.get());
  BOOST_TEST(full_done == 1);
  // Not small: job 8 (no grant yet) goes before job 7's lanes, which came first.
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 3; }));
  std::atomic<bool> other_done{false};
  cancel_token other_token;
  auto other = std::async(std::launch::async, [&] {
    bool ok = budget.acquire_as(job_claim(8), other_token);
    other_done = true;
    return ok;
  });
  BOOST_REQUIRE(eventually([&] { return budget.waiting() == 4u; }));
  budget.grant({0}, 1000);
  BOOST_REQUIRE(eventually([&] { return other_done.load(); }));
  BOOST_TEST(full_done == 1);
  // With job 8 served, the next ask names job 7.
  BOOST_REQUIRE(eventually([&] { return l.asked.load() == 4; }));
  BOOST_TEST(l.last_job == 7u);
  full_token.cancel();
  for (auto& f : full)
    f.get();
  BOOST_TEST(other.get());
}
