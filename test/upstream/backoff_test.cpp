// The backoff schedule and Retry-After parsing of SPEC §2.
#define BOOST_TEST_MODULE backoff
#include <boost/test/unit_test.hpp>

#include <climits>

#include "upstream/backoff.hpp"

using namespace matchsync::upstream;
using namespace std::chrono_literals;

namespace {
long long delay_ms(int attempt, double jitter, const backoff_policy& p = {}) {
  return backoff_delay(attempt, jitter, p).count();
}
long long nominal_ms(int attempt, const backoff_policy& p = {}) {
  return backoff_nominal(attempt, p).count();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(nominal_delay_starts_at_one_second_and_doubles) {
  BOOST_TEST(nominal_ms(1) == 1000);
  BOOST_TEST(nominal_ms(2) == 2000);
  BOOST_TEST(nominal_ms(3) == 4000);
  BOOST_TEST(nominal_ms(4) == 8000);
  BOOST_TEST(nominal_ms(5) == 16000);
  BOOST_TEST(nominal_ms(6) == 32000);
}

BOOST_AUTO_TEST_CASE(nominal_delay_is_capped_at_sixty_seconds) {
  BOOST_TEST(nominal_ms(7) == 60000);
  BOOST_TEST(nominal_ms(8) == 60000);
  BOOST_TEST(nominal_ms(100) == 60000);
  BOOST_TEST(nominal_ms(INT_MAX) == 60000);
}

BOOST_AUTO_TEST_CASE(attempts_below_one_count_as_the_first) {
  BOOST_TEST(nominal_ms(0) == 1000);
  BOOST_TEST(nominal_ms(-5) == 1000);
}

// SPEC §2: "1 s doubling, 60 s cap", with jitter: never sooner than the
// schedule, up to half of it later.
BOOST_AUTO_TEST_CASE(jitter_adds_up_to_half_the_nominal_delay) {
  BOOST_TEST(delay_ms(1, 0.0) == 1000);
  BOOST_TEST(delay_ms(1, 0.5) == 1250);
  BOOST_TEST(delay_ms(1, 0.999) == 1499);
  BOOST_TEST(delay_ms(3, 0.0) == 4000);
  BOOST_TEST(delay_ms(3, 0.25) == 4500);
  BOOST_TEST(delay_ms(6, 0.99) == 47840);
}

BOOST_AUTO_TEST_CASE(jittered_delay_is_never_below_the_schedule_nor_above_the_cap) {
  for (int attempt = 1; attempt < 20; ++attempt)
    for (double j : {0.0, 0.3, 0.7, 0.99999}) {
      BOOST_TEST(delay_ms(attempt, j) <= 60000);
      BOOST_TEST(delay_ms(attempt, j) >= nominal_ms(attempt));
    }
  BOOST_TEST(delay_ms(6, 0.0) == 32000);
  BOOST_TEST(delay_ms(7, 0.0) == 60000);
  BOOST_TEST(delay_ms(30, 0.9) == 60000);
}

BOOST_AUTO_TEST_CASE(jitter_outside_the_unit_interval_is_clamped) {
  BOOST_TEST(delay_ms(2, -3.0) == 2000);
  BOOST_TEST(delay_ms(2, 7.0) == 3000);
}

BOOST_AUTO_TEST_CASE(policy_sets_base_and_cap) {
  backoff_policy p{10ms, 100ms};
  BOOST_TEST(nominal_ms(1, p) == 10);
  BOOST_TEST(nominal_ms(4, p) == 80);
  BOOST_TEST(nominal_ms(5, p) == 100);
  BOOST_TEST(delay_ms(4, 0.5, p) == 100);  // 80 + 20, at the cap
  BOOST_TEST(delay_ms(5, 0.0, p) == 100);
}

BOOST_AUTO_TEST_CASE(retry_after_delta_seconds_are_parsed) {
  BOOST_TEST(parse_retry_after("2").value().count() == 2);
  BOOST_TEST(parse_retry_after("120").value().count() == 120);
  BOOST_TEST(parse_retry_after("0").value().count() == 0);
  BOOST_TEST(parse_retry_after(" 7\t").value().count() == 7);
}

BOOST_AUTO_TEST_CASE(retry_after_garbage_negatives_and_fractions_are_refused) {
  for (const char* bad : {"", "   ", "-1", "1.5", "abc", "5s", "+3", "3 4",
                          "0x10"})
    BOOST_TEST(!parse_retry_after(bad).has_value(), "'" << bad << "'");
}

BOOST_AUTO_TEST_CASE(a_retry_after_http_date_is_treated_as_unparsable) {
  BOOST_TEST(!parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
}

BOOST_AUTO_TEST_CASE(huge_retry_after_values_are_clamped_to_one_day) {
  BOOST_TEST(parse_retry_after("99999999999999999999999").value().count() ==
             86400);
  BOOST_TEST(parse_retry_after("86401").value().count() == 86400);
  BOOST_TEST(parse_retry_after("86399").value().count() == 86399);
}

BOOST_AUTO_TEST_SUITE_END()
