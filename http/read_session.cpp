#include "http/read_session.hpp"

namespace matchsync::http {

read_sessions::read_sessions(std::string url, int size, std::chrono::milliseconds wait)
  : url_(std::move(url)), size_(size < 1 ? 1 : size), wait_(wait) {}

read_sessions::lease::lease(read_sessions& o) : owner(o) {
  std::unique_lock<std::mutex> lock(o.mutex_);
  if (o.idle_.empty() && o.created_ < o.size_) {
    ++o.created_;
    session = std::make_unique<db::session>(o.url_);
    return;  // connects on first use, outside the lock
  }
  if (!o.returned_.wait_for(lock, o.wait_, [&] { return !o.idle_.empty(); }))
    throw domain_error(errc::storage_unavailable, "no database session free for a read");
  session = std::move(o.idle_.back());
  o.idle_.pop_back();
}

read_sessions::lease::~lease() {
  {
    std::lock_guard<std::mutex> guard(owner.mutex_);
    owner.idle_.push_back(std::move(session));
  }
  owner.returned_.notify_one();
}

int read_sessions::opened() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return created_;
}

}  // namespace matchsync::http
