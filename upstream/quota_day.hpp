// The upstream's day (SPEC §2): OpenDota's daily quota starts again at 00:00
// UTC, or at MATCHSYNC_UPSTREAM_DAY_START_UTC. Pure: wall times (time since
// the epoch, UTC) are passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace matchsync::upstream {

/// The day `wall` falls in, as days since 1970-01-01 of the day's start.
std::int64_t quota_day_of(std::chrono::system_clock::duration wall, int day_start_minute);

/// When day `day` starts (time since the epoch).
std::chrono::system_clock::duration quota_day_start(std::int64_t day, int day_start_minute);

/// When the day after the one `wall` falls in starts: where a quota wait ends.
std::chrono::system_clock::duration next_quota_day(std::chrono::system_clock::duration wall,
                                                   int day_start_minute);

/// "YYYY-MM-DD" of the day's start, for the database's `date` column.
std::string quota_day_date(std::int64_t day);

}  // namespace matchsync::upstream
