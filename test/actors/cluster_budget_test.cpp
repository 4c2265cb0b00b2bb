// A worker's share of the cluster budget (leased_rate_budget) against a
// stand-in coordinator actor: slots come a lease at a time, a lease request
// names the job it is for (an older coordinator still lends), and a cancel
// is heard at once, also while the coordinator does not answer.
#define BOOST_TEST_MODULE cluster_budget
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "actors/cluster_budget.hpp"
#include "actors/messages.hpp"
#include "test/support/process.hpp"
#include "upstream/cancel_token.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

struct silent_state {
  std::vector<caf::response_promise> held;  // never answered, never dropped
};

// A coordinator that takes lease requests and never answers them.
caf::behavior silent_coordinator(caf::stateful_actor<silent_state>* self,
                                 std::atomic<int>* asked) {
  return {[=](budget_atom, std::int32_t) -> caf::response_promise {
    ++*asked;
    auto rp = self->make_response_promise();
    self->state.held.push_back(rp);
    return rp;
  }};
}

// A coordinator that grants `count` slots due at once.
caf::behavior granting_coordinator(caf::event_based_actor*, std::atomic<int>* asked) {
  return {[=](budget_atom, std::int32_t count) {
    ++*asked;
    return std::make_tuple(std::vector<std::int64_t>(static_cast<std::size_t>(count), 0),
                           std::int64_t{1000});
  }};
}

// A coordinator that grants `count` slots due at once and notes for which
// job it was asked (-1: for the node as a whole, the older form).
caf::behavior job_noting_coordinator(caf::event_based_actor*, std::atomic<std::int64_t>* job) {
  auto grant = [](std::int32_t count) {
    return std::make_tuple(std::vector<std::int64_t>(static_cast<std::size_t>(count), 0),
                           std::int64_t{1000});
  };
  return {
    [=](budget_atom, std::int32_t count, std::int64_t j) {
      *job = j;
      return grant(count);
    },
    [=](budget_atom, std::int32_t count) {
      *job = -1;
      return grant(count);
    },
  };
}

// A coordinator that grants at once and counts the holds it is told.
caf::behavior hold_noting_coordinator(caf::event_based_actor*, std::atomic<int>* holds) {
  return {
    [=](hold_atom) { ++*holds; },
    [=](budget_atom, std::int32_t count, std::int64_t) {
      return std::make_tuple(std::vector<std::int64_t>(static_cast<std::size_t>(count), 0),
                             std::int64_t{1000});
    },
  };
}

// A coordinator that answers "not this turn" (errc::try_later, as the
// lease queue does at a request's deadline) to the first `refusals` lease
// requests, then grants; counts each form of request.
struct turns {
  std::atomic<int> refused{0};
  std::atomic<int> job_form{0};
  std::atomic<int> older_form{0};
};
caf::behavior turn_taking_coordinator(caf::event_based_actor*, turns* t, int refusals) {
  auto grant = [](std::int32_t count) {
    return std::make_tuple(std::vector<std::int64_t>(static_cast<std::size_t>(count), 0),
                           std::int64_t{1000});
  };
  return {
    [=](budget_atom, std::int32_t count,
        std::int64_t) -> caf::result<std::vector<std::int64_t>, std::int64_t> {
      ++t->job_form;
      if (t->refused < refusals) {
        ++t->refused;
        return make_error(errc::try_later, "no slot this turn: ask again");
      }
      auto [delays, grace] = grant(count);
      return {std::move(delays), grace};
    },
    [=](budget_atom, std::int32_t count) {
      ++t->older_form;
      return grant(count);
    },
  };
}

long long ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - t)
    .count();
}

}  // namespace

BOOST_AUTO_TEST_CASE(slots_come_a_lease_at_a_time) {
  caf::actor_system sys{actor_config()};
  std::atomic<int> asked{0};
  auto coordinator = sys.spawn(granting_coordinator, &asked);
  leased_rate_budget budget(sys, coordinator, 2);
  upstream::cancel_token token;
  BOOST_TEST(budget.acquire(token));
  BOOST_TEST(budget.acquire(token));
  BOOST_TEST(asked == 1);  // both slots of the first lease
  BOOST_TEST(budget.acquire(token));
  BOOST_TEST(asked == 2);
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_cancel_is_heard_while_the_coordinator_does_not_answer) {
  caf::actor_system sys{actor_config()};
  std::atomic<int> asked{0};
  auto coordinator = sys.spawn(silent_coordinator, &asked);
  leased_rate_budget budget(sys, coordinator, 2);
  upstream::cancel_token leaser, waiter;
  std::atomic<int> leaser_result{-1}, waiter_result{-1};
  std::thread a([&] { leaser_result = budget.acquire(leaser) ? 1 : 0; });
  BOOST_REQUIRE(wait_until([&] { return asked.load() == 1; }, 5s));
  // A second caller waits for the first one's lease...
  std::thread b([&] { waiter_result = budget.acquire(waiter) ? 1 : 0; });
  // ...and still hears its own cancel at once, the lease unanswered.
  auto t0 = std::chrono::steady_clock::now();
  waiter.cancel();
  BOOST_TEST(wait_until([&] { return waiter_result.load() != -1; }, 3s));
  BOOST_TEST_MESSAGE("waiter cancel took " << ms_since(t0) << " ms");
  BOOST_TEST(ms_since(t0) < 500);
  BOOST_TEST(waiter_result == 0);
  BOOST_TEST(leaser_result == -1);  // still waiting for the coordinator
  // The one asking hears its cancel too, without waiting out the request.
  t0 = std::chrono::steady_clock::now();
  leaser.cancel();
  BOOST_TEST(wait_until([&] { return leaser_result.load() != -1; }, 3s));
  BOOST_TEST_MESSAGE("leaser cancel took " << ms_since(t0) << " ms");
  BOOST_TEST(ms_since(t0) < 500);
  BOOST_TEST(leaser_result == 0);
  a.join();
  b.join();
  BOOST_TEST(asked == 1);  // nobody asked again after the cancels
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
}

// The coordinator weighs a lease as the job it is for: the request names the
// job this node ranks first. A coordinator that only knows the older form
// (granting_coordinator) answers "unexpected message"; the leaser asks
// again at once in the older form, and is granted, within the one ask.
BOOST_AUTO_TEST_CASE(a_lease_request_names_its_job_and_an_older_coordinator_still_lends) {
  caf::actor_system sys{actor_config()};
  std::atomic<std::int64_t> job{0};
  auto newer = sys.spawn(job_noting_coordinator, &job);
  {
    leased_rate_budget budget(sys, newer, 2);
    upstream::cancel_token token;
    BOOST_TEST(budget.acquire_as(upstream::job_claim(42, true), token));
    BOOST_TEST(job == 42);
  }
  std::atomic<int> asked{0};
  auto older = sys.spawn(granting_coordinator, &asked);
  leased_rate_budget budget(sys, older, 2);
  upstream::cancel_token token;
  std::atomic<int> result{-1};
  std::thread a([&] { result = budget.acquire_as(upstream::job_claim(42), token) ? 1 : 0; });
  bool answered = wait_until([&] { return result.load() != -1; }, 10s);
  token.cancel();  // without the fallback it would wait for ever
  a.join();
  BOOST_TEST(answered);
  BOOST_TEST(result == 1);
  BOOST_TEST(asked == 1);
  BOOST_TEST(budget.asks() == 1);
  caf::anon_send_exit(newer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(older, caf::exit_reason::user_shutdown);
}

// "Not this turn" is no refusal of the form: the leaser asks again at once,
// for the same job, in the same form (an older coordinator's refusal sends
// it to the older form for a minute; this must not).
BOOST_AUTO_TEST_CASE(not_this_turn_is_asked_again_at_once_in_the_same_form) {
  caf::actor_system sys{actor_config()};
  turns t;
  auto coordinator = sys.spawn(turn_taking_coordinator, &t, 2);
  leased_rate_budget budget(sys, coordinator, 2);
  upstream::cancel_token token;
  std::atomic<int> result{-1};
  std::thread a([&] { result = budget.acquire_as(upstream::job_claim(42), token) ? 1 : 0; });
  bool answered = wait_until([&] { return result.load() != -1; }, 10s);
  token.cancel();
  a.join();
  BOOST_TEST(answered);
  BOOST_TEST(result == 1);
  BOOST_TEST(t.refused == 2);
  BOOST_TEST(t.job_form == 3);
  BOOST_TEST(t.older_form == 0);
  BOOST_TEST(budget.asks() == 3);
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
}

// The budget is the cluster's (SPEC §2): a spent minute this node heard of
// is told to the coordinator, whose budget then holds for every node.
BOOST_AUTO_TEST_CASE(a_spent_minute_is_told_to_the_coordinator) {
  caf::actor_system sys{actor_config()};
  std::atomic<int> holds{0};
  auto coordinator = sys.spawn(hold_noting_coordinator, &holds);
  leased_rate_budget budget(sys, coordinator, 2);
  budget.hold_until_next_minute();
  BOOST_TEST(wait_until([&] { return holds.load() == 1; }, 5s));
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
}
