// A cancel flag shared between a job and whoever may cancel it. Every wait of
// the upstream layer (budget, backoff, latency, an in-flight request) watches
// one, so a cancel never waits for any of them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace matchsync::upstream {

/// A thread-safe, one-way cancel flag with interruptible waits and callbacks.
///
/// `cancel()` may be called from any thread, any number of times; the first
/// call wins. Callbacks registered with `on_cancel` run once, in the thread
/// that calls `cancel()` (or at once in the registering thread if the token
/// is already cancelled), so they must be short and must not block: typically
/// they shut down a socket.
class cancel_token {
public:
  using clock = std::chrono::steady_clock;

  /// Unregisters its callback when destroyed (or reset). If the callback is
  /// running in another thread at that moment, the destructor waits for it to
  /// finish, so whatever the callback touches may be destroyed right after.
  class registration {
  public:
    registration() = default;
    registration(registration&& other) noexcept;
    registration& operator=(registration&& other) noexcept;
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;
    ~registration();

    /// Unregisters now; a no-op when empty.
    void reset();

  private:
    friend class cancel_token;
    registration(cancel_token* token, std::uint64_t id)
      : token_(token), id_(id) {}
    cancel_token* token_ = nullptr;
    std::uint64_t id_ = 0;
  };

  cancel_token() = default;
  cancel_token(const cancel_token&) = delete;
  cancel_token& operator=(const cancel_token&) = delete;

  /// Sets the flag, wakes every waiter and runs the registered callbacks.
  void cancel();

  /// True once `cancel()` has been called.
  bool cancelled() const;

  /// Sleeps for `duration` unless cancelled first. Returns true when the
  /// whole duration passed, false when the token is (or becomes) cancelled;
  /// in that case it returns as soon as `cancel()` is called.
  bool wait_for(std::chrono::milliseconds duration);

  /// As `wait_for`, up to a steady-clock deadline.
  bool wait_until(clock::time_point deadline);

  /// Registers `callback` to run on cancel. If the token is already
  /// cancelled, runs it now, in this thread, and returns an empty
  /// registration. Keep the returned registration alive as long as the
  /// callback may run.
  [[nodiscard]] registration on_cancel(std::function<void()> callback);

private:
  void unregister(std::uint64_t id);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool cancelled_ = false;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::function<void()>> callbacks_;
  // The callback being run by cancel() right now, so that unregistering it
  // from another thread can wait until it has returned.
  std::uint64_t running_id_ = 0;
  std::thread::id running_thread_;
};

}  // namespace matchsync::upstream
