// The upstream's daily quota as a request sees it (SPEC §2): every request
// takes one of the day's; once none is left, or the upstream says so, jobs
// wait (quota wait, SPEC §3) until the upstream's day starts again. The
// cluster-wide implementation keeps the count in the database
// (sync/shared_daily_quota).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace matchsync::upstream {

/// The day's count as /metrics shows it.
struct quota_usage {
  std::int64_t used = 0;
  std::int64_t limit = 0;  ///< 0 = none
};

class daily_quota {
public:
  virtual ~daily_quota() = default;

  /// Takes one request of the current day. nullopt: granted. Otherwise the
  /// day is spent and the value is when the next one starts (wall time
  /// since the epoch): no request may start before it.
  virtual std::optional<std::chrono::system_clock::duration> take() = 0;

  /// The upstream said the current day is spent. Returns when the next day
  /// starts.
  virtual std::chrono::system_clock::duration spent() = 0;

  /// The current day's count (may read the database).
  virtual quota_usage usage() = 0;
};

}  // namespace matchsync::upstream
