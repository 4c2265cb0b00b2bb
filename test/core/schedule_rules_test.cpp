// The rules of automatic syncs alone: due times, overlap, catch-up, quota share.
#define BOOST_TEST_MODULE schedule_rules
#include <boost/test/unit_test.hpp>

#include <map>

#include "core/schedule_rules.hpp"

using namespace matchsync::schedule;

BOOST_AUTO_TEST_CASE(intervals_run_from_15_minutes_to_7_days) {
  BOOST_TEST(!valid_interval(14));
  BOOST_TEST(valid_interval(15));
  BOOST_TEST(valid_interval(10080));
  BOOST_TEST(!valid_interval(10081));
  BOOST_TEST(!valid_interval(0));
  BOOST_TEST(!valid_interval(-60));
}

BOOST_AUTO_TEST_CASE(due_times_are_the_users_phase_plus_whole_intervals) {
  const std::int64_t now = 1'796'000'000;
  for (std::int64_t user : {1, 2, 77, 123456789}) {
    for (int interval : {15, 60, 1440, 10080}) {
      auto due = next_due(now, user, interval);
      BOOST_TEST(due > now);
      BOOST_TEST(due <= now + interval * 60);
      BOOST_TEST((due - phase_s(user, interval)) % (interval * 60) == 0);
      // Stable: the next after a due time is one interval later.
      BOOST_TEST(next_due(due, user, interval) == due + interval * 60);
      // Strictly after: a due time itself is not "after" itself.
      BOOST_TEST(next_due(due - 1, user, interval) == due);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_thousand_schedules_turned_on_at_once_spread_over_the_interval) {
  const std::int64_t now = 1'796'000'000;
  std::map<std::int64_t, int> per_second;
  for (std::int64_t user = 1; user <= 1000; ++user)
    ++per_second[next_due(now, user, 15)];
  int most = 0;
  for (auto& [t, n] : per_second)
    most = std::max(most, n);
  BOOST_TEST(most <= 20);  // at most 2 % in one second
  BOOST_TEST(per_second.size() > 500u);
}

BOOST_AUTO_TEST_CASE(a_due_schedule_starts_a_job_and_is_due_again_one_interval_later) {
  due_input in;
  in.user_id = 7;
  in.interval_minutes = 60;
  auto due = next_due(1'796'000'000, 7, 60);
  in.now = due + 2;  // the tick that sees it
  auto out = on_due(in);
  BOOST_TEST((out.what == action::start));
  BOOST_TEST(out.next_run_at == due + 3600);
}

BOOST_AUTO_TEST_CASE(a_schedule_due_while_the_user_has_an_active_job_skips_that_run) {
  due_input in;
  in.user_id = 7;
  in.interval_minutes = 15;
  auto due = next_due(1'796'000'000, 7, 15);
  in.now = due;
  in.user_has_active_job = true;
  auto out = on_due(in);
  BOOST_TEST((out.what == action::skip));
  BOOST_TEST(out.next_run_at == due + 900);
}

BOOST_AUTO_TEST_CASE(after_downtime_one_run_catches_up_not_one_per_missed_interval) {
  due_input in;
  in.user_id = 9;
  in.interval_minutes = 15;
  auto missed = next_due(1'796'000'000, 9, 15);
  in.now = missed + 5 * 900 + 30;  // five intervals later
  auto out = on_due(in);
  BOOST_TEST((out.what == action::start));
  // The next is in the future: the four other missed due times are gone.
  BOOST_TEST(out.next_run_at >= in.now + 450);
  BOOST_TEST(out.next_run_at < in.now + 450 + 900);
  BOOST_TEST(out.next_run_at == next_due(out.next_run_at - 1, 9, 15));  // one of the user's
}

// CI's scheduler_pgtest once made a run one second before the user's due
// time, and the next pass made a second job at that due time.
BOOST_AUTO_TEST_CASE(a_catch_up_run_just_before_a_due_time_passes_that_due_time_over) {
  due_input in;
  in.user_id = 1;
  in.interval_minutes = 15;
  auto upcoming = next_due(1'796'000'000, 1, 15);
  for (std::int64_t early : {1, 2, 60, 449}) {
    in.now = upcoming - early;
    auto out = on_due(in);
    BOOST_TEST(out.next_run_at == upcoming + 900, "run " << early << " s before a due time");
  }
  in.now = upcoming - 451;  // more than half an interval early: that due time runs
  BOOST_TEST(on_due(in).next_run_at == upcoming);
  in.user_has_active_job = true;  // a skipped run moves the same way
  in.now = upcoming - 1;
  BOOST_TEST(on_due(in).next_run_at == upcoming + 900);
}

BOOST_AUTO_TEST_CASE(without_quota_share_the_run_is_deferred_to_the_next_quota_day) {
  due_input in;
  in.user_id = 3;
  in.interval_minutes = 60;
  in.now = 1'796'000'000;
  in.quota_share_left = false;
  in.next_quota_day = in.now + 5 * 3600 + 17;
  auto out = on_due(in);
  BOOST_TEST((out.what == action::defer));
  BOOST_TEST(out.next_run_at >= in.next_quota_day);
  BOOST_TEST(out.next_run_at < in.next_quota_day + 3600);
  // An active job still wins: skipped, not deferred.
  in.user_has_active_job = true;
  BOOST_TEST((on_due(in).what == action::skip));
}

BOOST_AUTO_TEST_CASE(scheduled_runs_use_at_most_their_share_of_the_day) {
  BOOST_TEST(scheduled_limit(100, 50) == 50);
  BOOST_TEST(scheduled_limit(2000, 80) == 1600);
  BOOST_TEST(scheduled_limit(0, 80) == 0);  // no daily limit
  BOOST_TEST(scheduled_limit(3, 10) == 1);
  BOOST_TEST(scheduled_share_left(49, 100, 50));
  BOOST_TEST(!scheduled_share_left(50, 100, 50));
  BOOST_TEST(scheduled_share_left(5000, 0, 50));
  BOOST_TEST(!scheduled_share_left(0, 100, 0));
  BOOST_TEST(scheduled_share_left(99, 100, 100));
  BOOST_TEST(!scheduled_share_left(100, 100, 100));
}
