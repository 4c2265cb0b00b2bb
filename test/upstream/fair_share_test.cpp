// The fair-share rule (fair_share.hpp) alone: who gets the next slot, and
// the grants counted in its window.
#define BOOST_TEST_MODULE fair_share
#include <boost/test/unit_test.hpp>

#include "upstream/fair_share.hpp"

using matchsync::upstream::claimant;
using matchsync::upstream::fair_clock;
using matchsync::upstream::fairest;
using matchsync::upstream::grant_log;
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

BOOST_AUTO_TEST_SUITE_END()
