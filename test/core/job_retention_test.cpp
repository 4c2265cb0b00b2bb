// Job retention's rule: the cutoff and the batching of a pass.
#define BOOST_TEST_MODULE job_retention
#include <boost/test/unit_test.hpp>

#include "core/job_retention.hpp"

using namespace matchsync;
using namespace std::chrono;

namespace {
retention::clock::time_point at(std::int64_t epoch_s) {
  return retention::clock::time_point(seconds(epoch_s));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(job_retention)

BOOST_AUTO_TEST_CASE(the_cutoff_is_now_minus_the_days) {
  retention::policy p;
  BOOST_TEST(p.days == 90);  // SPEC §1's default
  auto now = at(1'800'000'000);
  auto c = retention::cutoff(p, now);
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(retention::cutoff_epoch_seconds(*c) == 1'800'000'000 - 90 * 86400);
  p.days = 1;
  BOOST_TEST(retention::cutoff_epoch_seconds(*retention::cutoff(p, now)) ==
             1'800'000'000 - 86400);
}

BOOST_AUTO_TEST_CASE(zero_days_keeps_every_job) {
  retention::policy p;
  p.days = 0;
  BOOST_TEST(!retention::cutoff(p, at(1'800'000'000)).has_value());
}

BOOST_AUTO_TEST_CASE(the_cutoff_rounds_down_so_a_job_is_never_pruned_early) {
  retention::policy p;
  p.days = 1;
  auto now = at(1'800'000'000) + milliseconds(999);
  BOOST_TEST(retention::cutoff_epoch_seconds(*retention::cutoff(p, now)) ==
             1'800'000'000 - 86400);
  // Before the epoch, floor (not truncation toward zero).
  BOOST_TEST(retention::cutoff_epoch_seconds(at(0) - milliseconds(1)) == -1);
}

BOOST_AUTO_TEST_CASE(a_full_batch_asks_for_another_a_short_one_ends_the_pass) {
  retention::policy p;
  p.batch_size = 500;
  p.max_batches = 3;
  BOOST_TEST(retention::another_batch(p, 500, 1));
  BOOST_TEST(!retention::another_batch(p, 499, 1));
  BOOST_TEST(!retention::another_batch(p, 0, 1));
}

BOOST_AUTO_TEST_CASE(a_pass_stops_after_max_batches) {
  retention::policy p;
  p.batch_size = 10;
  p.max_batches = 3;
  BOOST_TEST(retention::another_batch(p, 10, 2));
  BOOST_TEST(!retention::another_batch(p, 10, 3));
}

BOOST_AUTO_TEST_CASE(batches_are_small_and_a_pass_runs_once_a_day) {
  retention::policy p;
  BOOST_TEST(p.batch_size <= 1000);
  BOOST_TEST(p.period.count() == 24);
}

BOOST_AUTO_TEST_SUITE_END()
