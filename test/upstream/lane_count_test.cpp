// lanes_for and next_round_trip: how many connections a batch of details
// is fetched on.
#define BOOST_TEST_MODULE lane_count
#include <boost/test/unit_test.hpp>

#include "upstream/lane_count.hpp"

using namespace matchsync::upstream;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(lane_count)

BOOST_AUTO_TEST_CASE(an_unknown_round_trip_uses_every_lane) {
  BOOST_TEST(lanes_for(std::nullopt, 4) == 4);
  BOOST_TEST(lanes_for(std::nullopt, 1) == 1);
}

BOOST_AUTO_TEST_CASE(a_quick_upstream_is_fetched_on_one_lane) {
  BOOST_TEST(lanes_for(300us, 4) == 1);
  BOOST_TEST(lanes_for(2000us, 4) == 1);
}

BOOST_AUTO_TEST_CASE(slower_answers_get_a_lane_per_quick_round_trip_up_to_the_most) {
  BOOST_TEST(lanes_for(2001us, 4) == 2);
  BOOST_TEST(lanes_for(5ms, 4) == 3);
  BOOST_TEST(lanes_for(150ms, 4) == 4);
  BOOST_TEST(lanes_for(150ms, 8) == 8);
  BOOST_TEST(lanes_for(5ms, 4, 10ms) == 1);
}

BOOST_AUTO_TEST_CASE(nonsense_settings_still_give_at_least_one_lane) {
  BOOST_TEST(lanes_for(150ms, 0) == 1);
  BOOST_TEST(lanes_for(150ms, -3) == 1);
  BOOST_TEST(lanes_for(150ms, 4, 0us) == 1);
}

BOOST_AUTO_TEST_CASE(the_estimate_moves_a_quarter_of_the_way_to_each_sample) {
  BOOST_TEST(next_round_trip(std::nullopt, 800us).count() == 800);
  BOOST_TEST(next_round_trip(800us, 1600us).count() == 1000);
  BOOST_TEST(next_round_trip(1000us, 200us).count() == 800);
  // One slow answer does not turn a quick upstream into a slow one.
  auto estimate = next_round_trip(400us, 4000us);
  BOOST_TEST(lanes_for(estimate, 4) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
