#include "http/stream_quota.hpp"

#include <algorithm>

namespace matchsync::http {

stream_quota::stream_quota(int server_cap, int per_user)
  : server_cap_(std::max(0, server_cap)),
    per_user_(std::max(1, std::min(per_user, server_cap_ >= 2 ? server_cap_ - 1 : 1))) {}

stream_quota::verdict stream_quota::acquire(std::int64_t user_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& mine = by_user_[user_id];
  if (mine >= per_user_)
    return verdict::user_full;
  if (open_ >= server_cap_) {
    if (mine == 0)
      by_user_.erase(user_id);
    return verdict::server_full;
  }
  ++mine;
  ++open_;
  return verdict::admitted;
}

void stream_quota::release(std::int64_t user_id) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = by_user_.find(user_id);
  if (it == by_user_.end())
    return;
  --open_;
  if (--it->second == 0)
    by_user_.erase(it);
}

int stream_quota::open() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return open_;
}

}  // namespace matchsync::http
