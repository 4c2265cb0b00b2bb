// The clock-minute rule of the request budget (SPEC §2): OpenDota counts
// requests per fixed clock minute, so besides spacing its starts evenly the
// budget never starts more than `rate` requests in one clock minute, and
// keeps every start a margin away from a minute's edges: a request started
// just before a boundary may arrive just after it, in the next minute's
// count, beside all of that minute's own. Pure: wall times are passed in.
#pragma once

#include <chrono>
#include <cstdint>

namespace matchsync::upstream {

using wall_duration = std::chrono::system_clock::duration;

/// The starts already granted in one clock minute.
struct minute_tally {
  std::int64_t minute = INT64_MIN;  ///< minutes since the epoch (UTC)
  int used = 0;
};

/// The clock minute `wall` (time since the epoch) falls in.
std::int64_t clock_minute_of(wall_duration wall);

/// How far from a minute's edges a start keeps: half the spacing, at most
/// one second (more than any loopback or internet jitter in a round trip).
wall_duration edge_margin(wall_duration interval);

/// The earliest start at or after `wall` that keeps the rule: outside
/// (boundary - margin, boundary + margin) of every minute boundary, and in
/// a minute that has fewer than `rate` starts in `tally` (the minute of the
/// last grant). `rate` > 0.
wall_duration place_in_clock_minute(wall_duration wall, int rate, wall_duration margin,
                                    const minute_tally& tally);

/// The tally after a grant at `wall`.
minute_tally count_start(minute_tally tally, wall_duration wall);

/// The first start allowed in the clock minute after the one `wall` is in:
/// the next boundary plus the margin (Remaining-Minute: 0, or a 429 that
/// gave no Retry-After).
wall_duration next_clock_minute(wall_duration wall, wall_duration margin);

}  // namespace matchsync::upstream
