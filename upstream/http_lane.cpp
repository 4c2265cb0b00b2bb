#include "upstream/http_lane.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "upstream/cancel_token.hpp"

namespace matchsync::upstream {

http_lane::http_lane(const std::string& origin, const http_client_options& options)
  : http_(origin) {
  http_.set_connection_timeout(options.timeout);
  http_.set_read_timeout(options.timeout);
  http_.set_write_timeout(options.timeout);
  // One connection per lane, kept between the requests of one call (a batch
  // of details): a request does not pay for a TCP (or TLS) handshake. The
  // client closes it after the call (close_idle), so that jobs waiting
  // between steps hold no upstream connection. A cancel still shuts
  // exactly our socket.
  http_.set_keep_alive(true);
  http_.set_tcp_nodelay(true);
  http_.set_default_headers(
    {{"User-Agent", "matchsync"}, {"Accept", "application/json"}});
  // Called on every new socket, before it connects: keep our own handle on
  // it (until the next one) so that a cancel can shut it down from another
  // thread.
  http_.set_socket_options([this](socket_t sock) { adopt_socket(sock); });
}

http_lane::~http_lane() { close_socket(); }

void http_lane::close_idle() {
  http_.stop();
  close_socket();
}

void http_lane::adopt_socket(socket_t sock) {
  std::lock_guard<std::mutex> lock(socket_mutex_);
  if (socket_dup_ >= 0)
    ::close(socket_dup_);
  // A duplicate rather than the number itself: httplib closes its
  // descriptor when the request ends, and the number could then be reused
  // by an unrelated socket that a late cancel would shut down.
  socket_dup_ = ::dup(sock);
  if (aborted_ && socket_dup_ >= 0)
    ::shutdown(socket_dup_, SHUT_RDWR);
}

// Runs in the cancelling thread: never blocks on the network.
void http_lane::abort_in_flight() {
  std::lock_guard<std::mutex> lock(socket_mutex_);
  aborted_ = true;
  if (socket_dup_ >= 0)
    ::shutdown(socket_dup_, SHUT_RDWR);
}

void http_lane::close_socket() {
  std::lock_guard<std::mutex> lock(socket_mutex_);
  if (socket_dup_ >= 0)
    ::close(socket_dup_);
  socket_dup_ = -1;
}

raw_answer http_lane::send(const std::string& target, cancel_token& token) {
  {
    std::lock_guard<std::mutex> lock(socket_mutex_);
    aborted_ = false;
  }
  raw_answer out;
  auto hook = token.on_cancel([this] { abort_in_flight(); });
  auto res = http_.Get(target);
  hook.reset();
  if (res) {
    out.answered = true;
    out.status = res->status;
    out.body = std::move(res->body);
    out.retry_after = res->get_header_value("Retry-After");
    out.remaining_minute = res->get_header_value("X-Rate-Limit-Remaining-Minute");
    out.remaining_day = res->get_header_value("X-Rate-Limit-Remaining-Day");
  } else {
    out.transport_error = httplib::to_string(res.error());
  }
  return out;
}

http_lane::turn::~turn() {
  if (!taken_)
    return;
  {
    std::lock_guard<std::mutex> lock(lane_.call_mutex_);
    lane_.call_busy_ = false;
  }
  lane_.call_free_.notify_one();
}

bool http_lane::turn::take(cancel_token& token) {
  std::unique_lock<std::mutex> lock(lane_.call_mutex_);
  while (lane_.call_busy_) {
    if (token.cancelled())
      return false;
    lane_.call_free_.wait_for(lock, std::chrono::milliseconds(20));
  }
  lane_.call_busy_ = true;
  taken_ = true;
  return true;
}

bool http_lane::turn::try_take() {
  std::lock_guard<std::mutex> lock(lane_.call_mutex_);
  if (lane_.call_busy_)
    return false;
  lane_.call_busy_ = true;
  taken_ = true;
  return true;
}

}  // namespace matchsync::upstream
