// cancel_token: the flag, interruptible waits, and callbacks that abort
// in-flight work.
#define BOOST_TEST_MODULE cancel_token
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "test/support/process.hpp"
#include "upstream/cancel_token.hpp"

using matchsync::test::wait_until;
using matchsync::upstream::cancel_token;
using namespace std::chrono_literals;

namespace {
long long ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - start)
    .count();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(cancel_token_suite)

BOOST_AUTO_TEST_CASE(a_new_token_is_not_cancelled_and_cancel_sticks) {
  cancel_token token;
  BOOST_TEST(!token.cancelled());
  token.cancel();
  BOOST_TEST(token.cancelled());
  token.cancel();
  BOOST_TEST(token.cancelled());
}

BOOST_AUTO_TEST_CASE(wait_for_returns_true_when_the_whole_time_passed) {
  cancel_token token;
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(token.wait_for(30ms));
  BOOST_TEST(ms_since(start) >= 30);
}

BOOST_AUTO_TEST_CASE(wait_on_a_cancelled_token_returns_false_at_once) {
  cancel_token token;
  token.cancel();
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(!token.wait_for(60s));
  // Not a speed target (this suite runs under TSan too): not the 60 s.
  BOOST_TEST(ms_since(start) < 30000);
}

BOOST_AUTO_TEST_CASE(cancel_from_another_thread_ends_a_long_wait_promptly) {
  cancel_token token;
  std::atomic<bool> result{true};
  std::atomic<long long> woke_after_ms{-1};
  std::chrono::steady_clock::time_point cancelled_at;
  // Returns once the waiter sleeps in the wait.
  auto waiter = matchsync::test::start_blocked([&] {
    result = token.wait_for(60s);
    woke_after_ms = ms_since(cancelled_at);
  });
  cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  waiter.join();
  BOOST_TEST(!result);
  BOOST_TEST(woke_after_ms < 30000);  // woken, not the 60 s run out
}

BOOST_AUTO_TEST_CASE(callbacks_run_once_in_the_cancelling_thread) {
  cancel_token token;
  int runs = 0;
  std::thread::id ran_in;
  auto reg = token.on_cancel([&] {
    ++runs;
    ran_in = std::this_thread::get_id();
  });
  std::thread canceller([&] {
    token.cancel();
    token.cancel();
  });
  auto canceller_id = canceller.get_id();
  canceller.join();
  BOOST_TEST(runs == 1);
  BOOST_TEST((ran_in == canceller_id));
}

BOOST_AUTO_TEST_CASE(a_callback_registered_after_cancel_runs_at_once) {
  cancel_token token;
  token.cancel();
  bool ran = false;
  auto reg = token.on_cancel([&] { ran = true; });
  BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(an_unregistered_callback_does_not_run) {
  cancel_token token;
  bool first = false;
  bool second = false;
  auto reg1 = token.on_cancel([&] { first = true; });
  {
    auto reg2 = token.on_cancel([&] { second = true; });
  }
  reg1.reset();
  token.cancel();
  BOOST_TEST(!first);
  BOOST_TEST(!second);
}

BOOST_AUTO_TEST_CASE(a_moved_registration_still_unregisters_once) {
  cancel_token token;
  bool ran = false;
  cancel_token::registration outer;
  {
    auto inner = token.on_cancel([&] { ran = true; });
    outer = std::move(inner);
  }
  token.cancel();
  BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(unregistering_waits_for_a_running_callback) {
  cancel_token token;
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::atomic<bool> finished{false};
  std::atomic<bool> finished_when_reset_returned{false};
  auto reg = token.on_cancel([&] {
    started = true;
    while (!release)
      std::this_thread::sleep_for(1ms);
    finished = true;
  });
  std::thread canceller([&] { token.cancel(); });
  BOOST_TEST_REQUIRE(wait_until([&] { return started.load(); }, 5s));
  // Returns once the owner blocks inside reset(); a reset that does not
  // wait returns instead, and start_blocked fails the test.
  auto owner = matchsync::test::start_blocked([&] {
    reg.reset();
    finished_when_reset_returned = finished.load();
  });
  release = true;
  owner.join();
  canceller.join();
  BOOST_TEST(finished_when_reset_returned);
}

BOOST_AUTO_TEST_CASE(a_callback_may_unregister_itself) {
  cancel_token token;
  cancel_token::registration reg;
  bool ran = false;
  reg = token.on_cancel([&] {
    ran = true;
    reg.reset();
  });
  token.cancel();
  BOOST_TEST(ran);
}

BOOST_AUTO_TEST_SUITE_END()
