#include "test/fake_opendota/fake_quota.hpp"

namespace matchsync::fake {

std::int64_t fake_quota::minute_index(wall::time_point now) {
  return std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count();
}

std::int64_t fake_quota::day_index(wall::time_point now) const {
  auto m = minute_index(now) - limits_.day_start_minute;
  // Floor division: minutes before the epoch's first day start stay apart.
  return m >= 0 ? m / 1440 : -((-m + 1439) / 1440);
}

void fake_quota::set_limits(quota_limits limits) {
  // The day may move (a test sets it to start a minute from now): the count
  // stays with the day it was counted in.
  limits_ = std::move(limits);
}

std::int64_t fake_quota::used_minute(wall::time_point now) const {
  return minute_index(now) == minute_ ? minute_count_ : 0;
}

std::int64_t fake_quota::used_day(wall::time_point now) const {
  return day_index(now) == day_ ? day_count_ : 0;
}

quota_verdict fake_quota::count(wall::time_point now, bool with_key) {
  auto m = minute_index(now);
  if (m != minute_) {
    minute_ = m;
    minute_count_ = 0;
  }
  auto d = day_index(now);
  if (d != day_) {
    day_ = d;
    day_count_ = 0;
  }
  // web.ts bumps both counters in one MULTI before it looks at either.
  ++minute_count_;
  ++day_count_;
  quota_verdict v;
  if (limits_.per_minute > 0)
    v.remaining_minute = limits_.per_minute - minute_count_;
  if (limits_.per_day > 0 && !with_key)
    v.remaining_day = limits_.per_day - day_count_;
  if (v.remaining_minute && *v.remaining_minute < 0) {
    v.status = 429;
    v.body = R"({"error":"minute rate limit exceeded"})";
  } else if (v.remaining_day && *v.remaining_day < 0) {
    v.status = 429;
    v.body = R"({"error":"daily api limit exceeded"})";
  }
  return v;
}

}  // namespace matchsync::fake
