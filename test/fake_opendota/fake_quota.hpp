// The fake OpenDota's rate limiter, as odota/core's svc/web.ts has it: a
// counter per clock minute and one per day, both bumped by every request
// that passes the API key check (404s and 429s included), the minute one
// checked first. Pure: the caller passes the wall-clock time in. Not
// thread-safe: the server guards it with its own lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace matchsync::fake {

/// What the limiter says about one request.
struct quota_verdict {
  /// 0 = pass; 429 = refused (`body` says which limit).
  int status = 0;
  std::string body;
  /// Header values to send; nullopt = header absent.
  std::optional<std::int64_t> remaining_minute;
  std::optional<std::int64_t> remaining_day;
};

/// The limits; 0 turns one off (OpenDota with ENABLE_API_LIMIT off sends no
/// headers, which is the fake's default so that fast tests stay fast).
struct quota_limits {
  std::int64_t per_minute = 0;
  std::int64_t per_day = 0;          ///< requests without a key only
  int day_start_minute = 0;          ///< minutes after 00:00 UTC the day starts
  std::optional<std::string> retry_after;  ///< sent on 429s when set (OpenDota never does)
};

class fake_quota {
public:
  using wall = std::chrono::system_clock;

  void set_limits(quota_limits limits);
  const quota_limits& limits() const { return limits_; }

  /// Counts one request at `now`; `with_key` = a valid API key came along
  /// (no daily limit, no day header).
  quota_verdict count(wall::time_point now, bool with_key);

  /// Requests counted in the clock minute / day containing `now`.
  std::int64_t used_minute(wall::time_point now) const;
  std::int64_t used_day(wall::time_point now) const;

  /// The clock minute and the quota day `now` falls in (for tests).
  static std::int64_t minute_index(wall::time_point now);
  std::int64_t day_index(wall::time_point now) const;

private:
  quota_limits limits_;
  std::int64_t minute_ = -1, minute_count_ = 0;
  std::int64_t day_ = -1, day_count_ = 0;
};

}  // namespace matchsync::fake
