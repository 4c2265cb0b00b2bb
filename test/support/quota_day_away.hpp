// A quota day start for tests that count against the upstream's day: 12
// hours from now, so no case meets it. At 00:00 UTC (the default) a count a
// test set would start afresh in its middle, or a parked run go on.
#pragma once

#include <chrono>

namespace matchsync::test {

/// The UTC minute of the day 12 hours from now
/// (MATCHSYNC_UPSTREAM_DAY_START_UTC, as minutes).
inline int day_start_12h_away() {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  return static_cast<int>((minutes + 720) % 1440);
}

}  // namespace matchsync::test
