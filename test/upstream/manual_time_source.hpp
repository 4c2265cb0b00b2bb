// A time_source whose clock only moves when the test says so. Sleepers block
// until the test advances the clock past their deadline (or their token is
// cancelled), which lets budget tests run a whole schedule exactly and fast.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "upstream/cancel_token.hpp"
#include "upstream/time_source.hpp"

namespace matchsync::test {

class manual_time_source final : public upstream::time_source {
public:
  explicit manual_time_source(
    clock::time_point start = clock::time_point{} + std::chrono::hours(1))
    : now_(start) {
    // 2026-12-01T00:00:30Z
    set_wall_now(std::chrono::seconds(1796083200 + 30));
  }

  clock::time_point now() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }

  /// The wall clock runs with the manual one, `wall_offset` ahead of it:
  /// by default the start is 30 s into a clock minute of 2026-12-01.
  std::chrono::system_clock::duration wall_at(clock::time_point t) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::chrono::duration_cast<std::chrono::system_clock::duration>(
             t.time_since_epoch()) + wall_offset_;
  }

  /// Makes the wall clock read `wall` (time since the epoch) now.
  void set_wall_now(std::chrono::system_clock::duration wall) {
    std::lock_guard<std::mutex> lock(mutex_);
    wall_offset_ = wall - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            now_.time_since_epoch());
  }

  bool sleep_until(clock::time_point deadline,
                   upstream::cancel_token& token) override {
    // Registered before taking our lock: on an already cancelled token the
    // callback runs at once, and it takes our lock.
    auto wake = token.on_cancel([this] {
      std::lock_guard<std::mutex> lock(mutex_);
      changed_.notify_all();
    });
    std::unique_lock<std::mutex> lock(mutex_);
    if (token.cancelled())
      return false;
    if (now_ >= deadline)
      return true;
    auto id = next_id_++;
    sleepers_.emplace(id, deadline);
    changed_.notify_all();
    changed_.wait(lock,
                  [&] { return now_ >= deadline || token.cancelled(); });
    sleepers_.erase(id);
    changed_.notify_all();
    return !token.cancelled();
  }

  void advance_to(clock::time_point t) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (t > now_)
      now_ = t;
    changed_.notify_all();
  }

  void advance(clock::duration d) { advance_to(now() + d); }

  /// Threads asleep whose deadline is still ahead: the ones the next
  /// advance may wake. Sleepers already due but not yet running are not
  /// counted.
  std::size_t sleepers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sleepers_ahead();
  }

  /// The earliest deadline ahead, if anyone sleeps.
  std::optional<clock::time_point> next_deadline() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::optional<clock::time_point> best;
    for (auto& [id, deadline] : sleepers_)
      if (deadline > now_ && (!best || deadline < *best))
        best = deadline;
    return best;
  }

  /// Waits (in real time) until `expected()` threads sleep; false at the
  /// deadline. `expected` may change: call `poke()` after changing it.
  bool wait_for_sleepers(const std::function<std::size_t()>& expected,
                         std::chrono::milliseconds deadline =
                           std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] {
      return sleepers_ahead() == expected();
    });
  }

  bool wait_for_sleepers(std::size_t n, std::chrono::milliseconds deadline =
                                          std::chrono::seconds(10)) {
    return wait_for_sleepers([n] { return n; }, deadline);
  }

  /// Wakes wait_for_sleepers to look again.
  void poke() {
    std::lock_guard<std::mutex> lock(mutex_);
    changed_.notify_all();
  }

private:
  std::size_t sleepers_ahead() const {
    std::size_t n = 0;
    for (auto& [id, deadline] : sleepers_)
      n += deadline > now_ ? 1 : 0;
    return n;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  clock::time_point now_;
  std::chrono::system_clock::duration wall_offset_{};
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, clock::time_point> sleepers_;
};

}  // namespace matchsync::test
