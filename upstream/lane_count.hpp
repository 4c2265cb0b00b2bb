// How many connections a batch of details is fetched on: enough to hide the
// upstream's latency, no more. Pure, so the rule is tested alone.
#pragma once

#include <chrono>
#include <optional>

namespace matchsync::upstream {

/// A request answered within `quick` gains nothing from a second lane: the
/// engine already fetches the next batch while it commits, and each extra
/// lane costs thread wake-ups on a loaded machine. Slower answers get one
/// lane per `quick` of round trip, up to `max_lanes`. While the round trip
/// is unknown (no answer yet) every lane is used.
int lanes_for(std::optional<std::chrono::microseconds> round_trip, int max_lanes,
              std::chrono::microseconds quick = std::chrono::milliseconds(2));

/// A running estimate of the round trip: each sample moves it a quarter of
/// the way, so that one slow answer does not decide alone.
std::chrono::microseconds next_round_trip(std::optional<std::chrono::microseconds> estimate,
                                          std::chrono::microseconds sample);

}  // namespace matchsync::upstream
