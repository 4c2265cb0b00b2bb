#include "upstream/minute_rule.hpp"

#include <algorithm>

namespace matchsync::upstream {

namespace {
constexpr wall_duration minute = std::chrono::minutes(1);

wall_duration start_of(std::int64_t m) { return m * minute; }
}  // namespace

std::int64_t clock_minute_of(wall_duration wall) {
  auto m = wall / minute;
  // Floor, also before the epoch (manual clocks in tests may start there).
  if (wall < wall_duration::zero() && start_of(m) != wall)
    --m;
  return m;
}

wall_duration edge_margin(wall_duration interval) {
  return std::min<wall_duration>(interval / 2, std::chrono::seconds(1));
}

wall_duration place_in_clock_minute(wall_duration wall, int rate, wall_duration margin,
                                    const minute_tally& tally) {
  auto m = clock_minute_of(wall);
  auto into = wall - start_of(m);
  if (into < margin)
    wall = start_of(m) + margin;  // just after a boundary
  else if (into > minute - margin)
    wall = start_of(++m) + margin;  // just before one
  if (m == tally.minute && tally.used >= rate)
    wall = start_of(m + 1) + margin;  // this minute's starts are spent
  return wall;
}

minute_tally count_start(minute_tally tally, wall_duration wall) {
  auto m = clock_minute_of(wall);
  if (m != tally.minute)
    return {m, 1};
  return {m, tally.used + 1};
}

wall_duration next_clock_minute(wall_duration wall, wall_duration margin) {
  return start_of(clock_minute_of(wall) + 1) + margin;
}

}  // namespace matchsync::upstream
