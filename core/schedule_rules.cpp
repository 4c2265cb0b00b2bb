#include "core/schedule_rules.hpp"

#include <algorithm>

namespace matchsync::schedule {

namespace {
// splitmix64: a fixed, well-mixed hash; std::hash may differ between builds.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
}  // namespace

std::int64_t phase_s(std::int64_t user_id, int interval_minutes) {
  auto interval = static_cast<std::uint64_t>(interval_minutes) * 60;
  return static_cast<std::int64_t>(mix(static_cast<std::uint64_t>(user_id)) % interval);
}

std::int64_t next_due(std::int64_t after, std::int64_t user_id, int interval_minutes) {
  std::int64_t interval = std::int64_t{interval_minutes} * 60;
  auto phase = phase_s(user_id, interval_minutes);
  // The k with phase + k * interval > after, smallest.
  auto k = floor_div(after - phase, interval) + 1;
  return phase + k * interval;
}

std::int64_t next_after_run(std::int64_t now, std::int64_t user_id, int interval_minutes) {
  std::int64_t half = std::int64_t{interval_minutes} * 30;
  return next_due(now + half - 1, user_id, interval_minutes);
}

due_outcome on_due(const due_input& in) {
  due_outcome out;
  out.next_run_at = next_after_run(in.now, in.user_id, in.interval_minutes);
  if (in.user_has_active_job) {
    out.what = action::skip;
  } else if (!in.quota_share_left) {
    // Put off to the first due time of the next quota day.
    out.what = action::defer;
    out.next_run_at = next_due(std::max(in.now, in.next_quota_day - 1), in.user_id,
                               in.interval_minutes);
  } else {
    out.what = action::start;
  }
  return out;
}

std::int64_t scheduled_limit(std::int64_t limit, int share_percent) {
  if (limit <= 0)
    return 0;
  return std::max<std::int64_t>(1, limit * std::clamp(share_percent, 0, 100) / 100);
}

bool scheduled_share_left(std::int64_t used_today, std::int64_t limit, int share_percent) {
  if (limit <= 0)
    return true;
  if (share_percent <= 0)
    return false;
  return used_today < scheduled_limit(limit, share_percent);
}

}  // namespace matchsync::schedule
