// Which waiting job the upstream budget hands its next slot to (SPEC §2,
// issue 19): the one with the fewest grants in the last five minutes (per
// job it stands for), ties going to the one waiting longest. Pure: times are
// passed in; no locks, no threads.
//
// Why five minutes and not one: at 60/min, 15 full syncs each get about 4
// grants a minute, so an incremental needing 6 would be level with them
// after 4 and wait out a minute for the rest; over five minutes they hold
// about 20 each, and the small job's 6 all come first. Why no starvation: a
// job not granted for five minutes counts 0, the fewest there is, and then
// only jobs counting 0 that waited longer go before it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace matchsync::upstream {

using fair_clock = std::chrono::steady_clock;

/// How far back grants count.
constexpr fair_clock::duration fair_window = std::chrono::minutes(5);

/// One job waiting for a slot, as the rule sees it.
struct claimant {
  std::uint64_t job = 0;
  /// Grants in the window.
  int recent = 0;
  /// Jobs it stands for (the coordinator lending to other nodes' jobs); >= 1.
  int weight = 1;
  /// When its oldest waiting request arrived, as an arrival number: smaller
  /// waited longer (numbers, so that a manual clock's equal times still
  /// order).
  std::uint64_t waiting_since = 0;
};

/// The index of the claimant the next slot goes to; `waiting` is not empty.
std::size_t fairest(const std::vector<claimant>& waiting);

/// The grants each job had in the window.
class grant_log {
public:
  explicit grant_log(fair_clock::duration window = fair_window) : window_(window) {}

  /// A grant to `job` at `at` (times come in order, slots in the future
  /// included: they are promised).
  void record(std::uint64_t job, fair_clock::time_point at);

  /// `job`'s grants after `now - window`.
  int recent(std::uint64_t job, fair_clock::time_point now);

  /// Jobs with a grant in the window (those with none are forgotten now and
  /// then, so finished jobs leave nothing behind).
  std::size_t jobs() const { return grants_.size(); }

private:
  void forget_idle(fair_clock::time_point now);

  fair_clock::duration window_;
  std::unordered_map<std::uint64_t, std::deque<fair_clock::time_point>> grants_;
  std::size_t records_ = 0;
};

}  // namespace matchsync::upstream
