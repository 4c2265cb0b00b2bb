// Time as the rate budget sees it. Production reads the steady clock and
// sleeps on the cancel token; unit tests pass a manual clock so that the
// budget's schedule is checked exactly, without sleeping and hoping.
#pragma once

#include <chrono>

namespace matchsync::upstream {

class cancel_token;

/// A clock plus an interruptible sleep on it.
class time_source {
public:
  using clock = std::chrono::steady_clock;

  virtual ~time_source() = default;

  /// The current time.
  virtual clock::time_point now() = 0;

  /// Time since the epoch on the wall clock (UTC) at steady time `t`: where
  /// clock minutes and the upstream's day begin.
  virtual std::chrono::system_clock::duration wall_at(clock::time_point t) = 0;

  /// Blocks until `now() >= deadline`. Returns true then, or false as soon as
  /// `token` is cancelled (also when it already is).
  virtual bool sleep_until(clock::time_point deadline, cancel_token& token) = 0;
};

/// The steady clock and `cancel_token::wait_until`. Stateless and shared.
time_source& steady_time_source();

}  // namespace matchsync::upstream
