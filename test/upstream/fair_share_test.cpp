// The fair-share rule (fair_share.hpp) alone: who gets the next slot (by
// counts, and with small jobs' head starts), and the grants counted.
#define BOOST_TEST_MODULE fair_share
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "upstream/fair_share.hpp"

using matchsync::upstream::claimant;
using matchsync::upstream::fair_clock;
using matchsync::upstream::fair_rule;
using matchsync::upstream::fairest;
using matchsync::upstream::grant_log;
using matchsync::upstream::head_start;
using matchsync::upstream::is_ahead;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(fair_share)

BOOST_AUTO_TEST_CASE(the_job_with_fewest_recent_grants_goes_first_though_it_came_last) {
  std::vector<claimant> waiting{{1, 20, 1, 1}, {2, 19, 1, 2}, {3, 4, 1, 60}};
  BOOST_TEST(fairest(waiting) == 2u);
}

BOOST_AUTO_TEST_CASE(ties_go_to_the_job_waiting_longest) {
  std::vector<claimant> waiting{{1, 3, 1, 9}, {2, 3, 1, 4}, {3, 3, 1, 7}};
  BOOST_TEST(fairest(waiting) == 1u);
}

BOOST_AUTO_TEST_CASE(a_claimant_standing_for_many_jobs_counts_its_grants_per_job) {
  // 30 grants for 10 jobs is 3 each: fewer than 4.
  std::vector<claimant> waiting{{1, 4, 1, 1}, {2, 30, 10, 2}};
  BOOST_TEST(fairest(waiting) == 1u);
  // 50 for 10 is 5 each: more than 4.
  waiting[1].recent = 50;
  BOOST_TEST(fairest(waiting) == 0u);
  // 40 for 10 is 4 each: a tie, and job 1 waited longer.
  waiting[1].recent = 40;
  BOOST_TEST(fairest(waiting) == 0u);
}

BOOST_AUTO_TEST_CASE(grants_count_for_five_minutes_then_not) {
  grant_log log;
  auto t0 = fair_clock::time_point{} + 1h;
  log.record(7, t0);
  log.record(7, t0 + 1s);
  log.record(8, t0 + 2s);
  BOOST_TEST(log.recent(7, t0 + 2s) == 2);
  BOOST_TEST(log.recent(7, t0 + 5min) == 1);  // the first fell out
  BOOST_TEST(log.recent(7, t0 + 5min + 1s) == 0);
  BOOST_TEST(log.recent(8, t0 + 5min + 1s) == 1);
  BOOST_TEST(log.recent(9, t0) == 0);
}

BOOST_AUTO_TEST_CASE(finished_jobs_are_forgotten) {
  grant_log log;
  auto t = fair_clock::time_point{} + 1h;
  // Many short jobs, one grant each, a second apart: the log only keeps the
  // ones of the last five minutes (plus what the next sweep will drop).
  for (std::uint64_t job = 1; job <= 5000; ++job)
    log.record(job, t + std::chrono::seconds(job));
  BOOST_TEST(log.jobs() <= 300u + 1024u);
}

BOOST_AUTO_TEST_CASE(a_job_waiting_five_minutes_comes_first_whatever_arrives) {
  // The no-starvation bound: after five minutes without a grant a job counts
  // 0, and newcomers (0 too) arrived after it.
  grant_log log;
  auto t0 = fair_clock::time_point{} + 1h;
  for (int i = 0; i < 100; ++i)
    log.record(1, t0 + std::chrono::milliseconds(i));
  auto later = t0 + 5min + 1s;
  std::vector<claimant> waiting{{2, log.recent(2, later), 1, 50},
                                {1, log.recent(1, later), 1, 10},
                                {3, log.recent(3, later), 1, 99}};
  BOOST_TEST(fairest(waiting) == 1u);
}

BOOST_AUTO_TEST_CASE(a_small_job_goes_ahead_of_jobs_that_had_fewer_grants_and_came_first) {
  // Ten seconds into 15 full syncs nobody has had much: counts alone would
  // put the incremental (job 9) last; its head start puts it first.
  fair_rule rule;
  std::vector<claimant> waiting{{1, 0, 1, 1}, {2, 1, 1, 2}, {9, 2, 1, 40, true}};
  BOOST_TEST(rule.pick(waiting) == 2u);
  // Not ahead, the same claimant is last.
  waiting[2].ahead = false;
  BOOST_TEST(rule.pick(waiting) == 0u);
}

BOOST_AUTO_TEST_CASE(among_jobs_ahead_the_oldest_request_goes_first) {
  fair_rule rule;
  std::vector<claimant> waiting{{5, 0, 1, 30, true}, {1, 0, 1, 1}, {6, 9, 1, 20, true}};
  BOOST_TEST(rule.pick(waiting) == 2u);
}

BOOST_AUTO_TEST_CASE(while_others_wait_at_most_three_slots_in_a_row_go_ahead) {
  fair_rule rule;
  std::vector<claimant> waiting{{1, 50, 1, 1}, {9, 0, 1, 2, true}};
  std::string order;
  for (int i = 0; i < 12; ++i)
    order += rule.pick(waiting) == 1u ? 'S' : 'F';
  BOOST_TEST(order == "SSSFSSSFSSSF");
}

BOOST_AUTO_TEST_CASE(alone_the_small_take_every_slot_and_others_arriving_get_the_fourth) {
  fair_rule rule;
  std::vector<claimant> alone{{9, 0, 1, 2, true}};
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(rule.pick(alone) == 0u);
  std::vector<claimant> both{{9, 10, 1, 2, true}, {1, 0, 1, 30}};
  std::string order;
  for (int i = 0; i < 4; ++i)
    order += rule.pick(both) == 0u ? 'S' : 'F';
  BOOST_TEST(order == "SSSF");
}

BOOST_AUTO_TEST_CASE(a_head_start_is_the_first_grants_of_a_job_declared_small) {
  BOOST_TEST(is_ahead(true, 0));
  BOOST_TEST(is_ahead(true, head_start - 1));
  BOOST_TEST(!is_ahead(true, head_start));
  BOOST_TEST(!is_ahead(false, 0));
}

BOOST_AUTO_TEST_CASE(no_stream_of_small_jobs_starves_the_others) {
  // A new small job at every slot, forever: the two full syncs still get a
  // slot in four between them, and share it by counts.
  fair_rule rule;
  grant_log log;
  auto t = fair_clock::time_point{} + 1h;
  std::map<std::uint64_t, int> got;
  for (std::uint64_t slot = 0; slot < 200; ++slot) {
    t += 1s;
    std::vector<claimant> waiting{{1, log.recent(1, t), 1, 1},
                                  {2, log.recent(2, t), 1, 2},
                                  {1000 + slot, 0, 1, 10 + slot, true}};
    auto job = waiting[rule.pick(waiting)].job;
    log.record(job, t);
    ++got[job < 1000 ? job : 1000];
  }
  BOOST_TEST(got[1] == 25);
  BOOST_TEST(got[2] == 25);
  BOOST_TEST(got[1000] == 150);
}

BOOST_AUTO_TEST_CASE(totals_count_since_the_first_grant_until_a_window_passes_idle) {
  grant_log log;
  auto t0 = fair_clock::time_point{} + 1h;
  for (int i = 0; i < 40; ++i)
    log.record(7, t0 + std::chrono::seconds(10 * i));  // 390 s: beyond one window
  auto last = t0 + 390s;
  BOOST_TEST(log.total(7, last) == 40);
  BOOST_TEST(log.recent(7, last) == 30);  // the last five minutes
  BOOST_TEST(log.total(7, last + 5min + 1s) == 0);
  BOOST_TEST(log.total(8, t0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
