#include "upstream/lane_count.hpp"

#include <algorithm>

namespace matchsync::upstream {

int lanes_for(std::optional<std::chrono::microseconds> round_trip, int max_lanes,
              std::chrono::microseconds quick) {
  max_lanes = std::max(1, max_lanes);
  if (!round_trip)
    return max_lanes;
  if (*round_trip <= quick || quick.count() <= 0)
    return 1;
  auto wanted = (round_trip->count() + quick.count() - 1) / quick.count();
  return static_cast<int>(std::min<long long>(wanted, max_lanes));
}

std::chrono::microseconds next_round_trip(std::optional<std::chrono::microseconds> estimate,
                                          std::chrono::microseconds sample) {
  if (!estimate)
    return sample;
  return *estimate + (sample - *estimate) / 4;
}

}  // namespace matchsync::upstream
