// lease_queue alone, on a manual clock: other nodes' lease requests are
// decided when the slot comes, to the job the fair-share rule ranks first
// among all of them, and none waits past its deadline.
#define BOOST_TEST_MODULE lease_queue
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <vector>

#include "manual_time_source.hpp"
#include "upstream/lease_queue.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync::upstream;
using namespace std::chrono_literals;
using matchsync::test::manual_time_source;

namespace {

std::map<std::uint64_t, lease_queue::answer> by_id(const std::vector<lease_queue::answer>& a) {
  std::map<std::uint64_t, lease_queue::answer> out;
  for (auto& x : a)
    out[x.id] = x;
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_lone_request_on_an_idle_budget_is_answered_at_once) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  lease_queue q(1s, 2s);
  q.add(1, job_claim(7), 1, 2, time.now());
  auto answers = q.due(budget, time.now());
  BOOST_REQUIRE(answers.size() == 1u);
  BOOST_TEST(answers[0].id == 1u);
  BOOST_TEST(!answers[0].later);
  BOOST_REQUIRE(answers[0].slots.delays_ms.size() == 2u);
  BOOST_TEST(answers[0].slots.delays_ms[0] == 0);
  BOOST_TEST(answers[0].slots.delays_ms[1] == 1000);
  BOOST_TEST(q.size() == 0u);
  BOOST_TEST(!q.wake_at(budget).has_value());
}

BOOST_AUTO_TEST_CASE(requests_meet_at_the_slot_and_the_fewest_granted_job_wins) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  lease_queue q(1s, 3s);
  auto t0 = time.now();
  // Job 1 had two slots already; the next starts in 2 s.
  BOOST_REQUIRE(budget.lend(2, job_claim(1)).delays_ms.size() == 2u);
  q.add(10, job_claim(1), 1, 2, t0);  // came first
  q.add(11, job_claim(2), 1, 2, t0);
  // Not near yet: nothing is decided on arrival.
  BOOST_TEST(q.due(budget, t0).empty());
  BOOST_REQUIRE(q.wake_at(budget).has_value());
  BOOST_TEST((*q.wake_at(budget) == t0 + 1s));
  time.advance(1s);
  auto first = q.due(budget, time.now());
  BOOST_REQUIRE(first.size() == 1u);
  BOOST_TEST(first[0].id == 11u);  // job 2: no grant yet, though it came second
  BOOST_TEST(!first[0].later);
  // One slot: another request waits, and the next slot is decided anew.
  BOOST_REQUIRE(first[0].slots.delays_ms.size() == 1u);
  BOOST_TEST(first[0].slots.delays_ms[0] == 1000);
  // Job 1's turn comes 1 s before the slot after that one; alone now, its
  // request gets the two slots it asked for.
  BOOST_TEST((*q.wake_at(budget) == t0 + 2s));
  time.advance(1s);
  auto second = q.due(budget, time.now());
  BOOST_REQUIRE(second.size() == 1u);
  BOOST_TEST(second[0].id == 10u);
  BOOST_TEST(!second[0].later);
  BOOST_REQUIRE(second[0].slots.delays_ms.size() == 2u);
  BOOST_TEST(second[0].slots.delays_ms[0] == 1000);
  BOOST_TEST(second[0].slots.delays_ms[1] == 2000);
  BOOST_TEST(q.size() == 0u);
}

BOOST_AUTO_TEST_CASE(a_request_whose_slot_is_not_near_by_its_deadline_is_answered_later) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  auto t0 = time.now();
  // Four slots promised: the next starts in 4 s, past the 2 s deadline.
  BOOST_REQUIRE(budget.lend(4, job_claim(1)).delays_ms.size() == 4u);
  lease_queue q(1s, 2s);
  q.add(1, job_claim(2), 1, 2, t0);
  BOOST_TEST(q.due(budget, t0).empty());
  BOOST_TEST((*q.wake_at(budget) == t0 + 2s));
  time.advance(2s - 1ms);
  BOOST_TEST(q.due(budget, time.now()).empty());
  time.advance(1ms);
  auto answers = q.due(budget, time.now());
  BOOST_REQUIRE(answers.size() == 1u);
  BOOST_TEST(answers[0].id == 1u);
  BOOST_TEST(answers[0].later);
  BOOST_TEST(answers[0].slots.delays_ms.empty());
  // Nothing was taken from the budget for it.
  BOOST_TEST((budget.next_start() == t0 + 4s));
  BOOST_TEST(!q.wake_at(budget).has_value());
}

BOOST_AUTO_TEST_CASE(an_unlimited_budget_answers_every_request_at_once) {
  manual_time_source time;
  local_rate_budget budget(0, time);
  lease_queue q(1s, 2s);
  q.add(1, job_claim(1), 1, 2, time.now());
  q.add(2, job_claim(2), 1, 2, time.now());
  auto answers = by_id(q.due(budget, time.now()));
  BOOST_REQUIRE(answers.size() == 2u);
  BOOST_TEST(!answers[1].later);
  BOOST_TEST(!answers[2].later);
  BOOST_TEST(answers[1].slots.delays_ms.empty());  // no budget: unlimited
  BOOST_TEST(q.size() == 0u);
}

// Issue 19 across nodes: one worker runs a single full sync (job 1), another
// fifteen (jobs 101-115). Each has one request in flight, naming the job it
// ranks first (the one with the fewest slots so far), and asks again as
// soon as it is answered, slots or "later". At 60/min over five minutes
// each job's share is within 20 % of every other's (19 and 18-19 slots).
// Answered on arrival, in order (as before the queue; planted once here),
// the single job got 100 slots, a third of the budget. One slot a turn
// while two requests wait: two a turn left job 1 at 22 against 18.
BOOST_AUTO_TEST_CASE(two_workers_jobs_share_the_budget_fairly_whatever_their_node) {
  manual_time_source time;
  local_rate_budget budget(60, time);
  lease_queue q(500ms, 2s);
  std::map<std::uint64_t, int> slots;  // per job
  const std::vector<std::uint64_t> one{1};
  std::vector<std::uint64_t> fifteen;
  for (std::uint64_t j = 101; j <= 115; ++j)
    fifteen.push_back(j);
  // Node n's request: its job with the fewest slots (lowest id on ties).
  auto ask = [&](std::uint64_t node, auto now) {
    auto& jobs = node == 1 ? one : fifteen;
    auto job = *std::min_element(jobs.begin(), jobs.end(), [&](auto a, auto b) {
      return slots[a] < slots[b] || (slots[a] == slots[b] && a < b);
    });
    q.add(node, job_claim(job), 1, 2, now);
    return job;
  };
  std::map<std::uint64_t, std::uint64_t> asked_for;  // node -> job
  auto start = time.now();
  asked_for[1] = ask(1, start);
  asked_for[2] = ask(2, start);
  int later = 0;
  while (time.now() - start < 5min) {
    for (auto& a : q.due(budget, time.now())) {
      if (a.later)
        ++later;
      else
        slots[asked_for[a.id]] += static_cast<int>(a.slots.delays_ms.size());
      asked_for[a.id] = ask(a.id, time.now());
    }
    auto next = q.wake_at(budget);
    BOOST_REQUIRE(next.has_value());
    time.advance_to(std::max(*next, time.now() + 1ms));
  }
  int lo = slots[1], hi = slots[1];
  for (auto j : fifteen) {
    lo = std::min(lo, slots[j]);
    hi = std::max(hi, slots[j]);
  }
  BOOST_TEST_MESSAGE("job 1: " << slots[1] << " slots; the fifteen: " << lo << ".." << hi
                               << "; later answers " << later);
  BOOST_TEST(lo > 0);
  BOOST_TEST(hi <= lo * 1.2, "shares " << lo << ".." << hi);
  // Every slot of the five minutes went to one of them.
  int total = 0;
  for (auto& [job, n] : slots)
    total += n;
  BOOST_TEST(total >= 295);
}
