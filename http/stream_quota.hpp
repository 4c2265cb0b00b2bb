// Who may open an event stream. Each open stream holds a pool thread, so the
// server caps them; one user's tabs must not take the whole cap (SPEC §4: at
// most 4 per user), and the per-user share stays below the server's cap so
// that another user always finds a place. Pure and thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace matchsync::http {

class stream_quota {
public:
  enum class verdict { admitted, user_full, server_full };

  /// `server_cap` streams in all; a user gets at most `per_user`, and never
  /// the whole server cap (one less, when the cap allows two or more).
  stream_quota(int server_cap, int per_user = 4);

  verdict acquire(std::int64_t user_id);
  void release(std::int64_t user_id);

  int open() const;
  int per_user() const { return per_user_; }

private:
  int server_cap_;
  int per_user_;
  mutable std::mutex mutex_;
  int open_ = 0;
  std::unordered_map<std::int64_t, int> by_user_;
};

}  // namespace matchsync::http
