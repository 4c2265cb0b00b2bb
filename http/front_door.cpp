#include "http/front_door.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/errors.hpp"

namespace matchsync::http {

namespace {

using steady = std::chrono::steady_clock;

// After a refusal the client may still be sending (2,000 headers, a body):
// closing at once would reset the connection and could destroy the answer
// before it is read. The rest is read and dropped for this long.
constexpr auto linger_after_refusal = std::chrono::milliseconds(1000);
// How often deadlines are looked at.
constexpr int tick_ms = 50;

std::string answer_text(int status, const std::string& detail, const std::string& extra) {
  auto body = dump_json(nlohmann::ordered_json{{"detail", detail}});
  return "HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra + "\r\n" + body;
}

void set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

void address_of(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0)
    return;
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  ip = buf;
}

// What httplib reads and writes for one request: the checked request from
// memory, the answer straight to the (non-blocking) socket.
class checked_stream : public httplib::Stream {
public:
  checked_stream(int fd, const std::string& request, std::chrono::milliseconds write_timeout)
    : fd_(fd), request_(request), write_timeout_(write_timeout) {}

  bool is_readable() const override { return pos_ < request_.size(); }
  // False too once the client has closed its side: an event stream asks
  // this at every poll, so a closed tab frees its place (and its user's
  // share of streams) at once rather than at the next heartbeat.
  bool is_writable() const override {
    pollfd p{fd_, POLLOUT | POLLRDHUP, 0};
    return ::poll(&p, 1, static_cast<int>(write_timeout_.count())) > 0 &&
           !(p.revents & (POLLERR | POLLHUP | POLLRDHUP));
  }
  ssize_t read(char* ptr, size_t size) override {
    auto n = std::min(size, request_.size() - pos_);
    std::memcpy(ptr, request_.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  using httplib::Stream::write;
  ssize_t write(const char* ptr, size_t size) override {
    size_t off = 0;
    while (off < size) {
      auto n = ::send(fd_, ptr + off, size - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && is_writable())
        continue;
      return -1;
    }
    return static_cast<ssize_t>(size);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

private:
  int fd_;
  const std::string& request_;
  std::size_t pos_ = 0;
  std::chrono::milliseconds write_timeout_;
};

class guarded_server : public httplib::Server {
public:
  guarded_server(front_door& door, std::chrono::milliseconds write_timeout) : door_(door) {
    door_.set_server([this, write_timeout](int fd, const std::string& request, bool last) {
      checked_stream s(fd, request, write_timeout);
      bool closed = false;
      bool ok = process_request(s, last, closed, nullptr);
      return ok && !closed;
    });
  }

private:
  // httplib's accept loop calls this (through its task queue) for every
  // connection; the connection is the front door's from here on.
  bool process_and_close_socket(socket_t sock) override {
    door_.adopt(sock);
    return true;
  }
  front_door& door_;
};

}  // namespace

struct front_door::impl : std::enable_shared_from_this<impl> {
  struct conn {
    int fd = -1;
    std::string in;
    request_reader reader;
    std::string request;  // the checked request being served
    steady::time_point deadline;
    std::size_t served = 0;
    bool idle = false;      // waiting for a next request (keep-alive)
    bool continued = false; // 100 Continue sent for this request
    bool closing = false;   // refused: draining until EOF or deadline
  };
  using conn_ptr = std::shared_ptr<conn>;

  impl(front_options o, elastic_pool& p) : opt(std::move(o)), pool(p) {
    ep = ::epoll_create1(EPOLL_CLOEXEC);
    wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ep < 0 || wake < 0)
      throw std::runtime_error("front door: cannot create epoll");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev);
  }
  ~impl() {
    ::close(ep);
    ::close(wake);
  }

  front_options opt;
  elastic_pool& pool;
  serve_fn serve;
  int ep = -1, wake = -1;
  std::thread thread;
  std::mutex mutex;  // inbox, stopping
  std::vector<conn_ptr> inbox;
  bool stopping = false;
  std::atomic<std::size_t> open{0}, busy{0}, limits{0}, timeouts{0};
  std::unordered_map<int, conn_ptr> waiting;  // the watching thread's alone

  void notify() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake, &one, sizeof one);
  }

  void close_conn(conn& c) {
    ::close(c.fd);
    c.fd = -1;
    --open;
  }

  // Back from a pool thread (or new): wait for the next request.
  void hand_in(conn_ptr c) {
    {
      std::lock_guard<std::mutex> guard(mutex);
      if (!stopping) {
        inbox.push_back(std::move(c));
        notify();
        return;
      }
    }
    close_conn(*c);
  }

  void refuse(conn& c, int status, const std::string& detail) {
    auto text = answer_text(status, detail, opt.extra_headers);
    [[maybe_unused]] auto n = ::send(c.fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(c.fd, SHUT_WR);
    c.closing = true;
    c.in.clear();
    c.deadline = steady::now() + linger_after_refusal;
  }

  void forget(conn& c) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    waiting.erase(c.fd);
  }

  void drop(conn_ptr c) {
    forget(*c);
    close_conn(*c);
  }

  // The bytes so far, checked; a whole request goes to a pool thread.
  void step(conn_ptr c) {  // by value: forget() drops the map's reference
    if (c->closing) {
      c->in.clear();
      return;
    }
    bool was_started = c->reader.started();
    auto v = c->reader.examine(c->in);
    if (!was_started && c->reader.started() && c->idle) {
      c->idle = false;
      c->deadline = steady::now() + opt.request_deadline;
    }
    switch (v.what) {
      case request_verdict::kind::refused:
        ++limits;
        refuse(*c, v.status, v.detail);
        return;
      case request_verdict::kind::incomplete:
        if (v.wants_continue && !c->continued) {
          static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
          [[maybe_unused]] auto n = ::send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
          c->continued = true;
        }
        return;
      case request_verdict::kind::complete:
        break;
    }
    c->request = std::move(v.request);
    c->in.erase(0, v.consumed);
    c->reader.reset();
    c->continued = false;
    forget(*c);
    std::function<void()> task = [self = shared_from_this(), c] { self->serve_one(c); };
    if (!pool.try_submit(task)) {
      ++busy;
      watch(c);
      refuse(*c, 503, "Server busy: every thread is taken, try again");
    }
  }

  void serve_one(conn_ptr c) {
    bool last = ++c->served >= opt.keep_alive_requests;
    bool keep = false;
    try {
      keep = serve(c->fd, c->request, last);
    } catch (...) {
      keep = false;
    }
    c->request.clear();
    c->request.shrink_to_fit();
    if (!keep || last) {
      close_conn(*c);
      return;
    }
    c->idle = c->in.empty();
    c->deadline = steady::now() + (c->idle ? opt.keep_alive_idle : opt.request_deadline);
    hand_in(c);
  }

  void watch(const conn_ptr& c) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c->fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    waiting[c->fd] = c;
  }

  void on_readable(conn_ptr c) {
    char buf[16384];
    std::size_t round = 0;
    for (;;) {
      auto n = ::recv(c->fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (!c->closing)
          c->in.append(buf, static_cast<std::size_t>(n));
        round += static_cast<std::size_t>(n);
        if (round >= 256 * 1024)
          break;  // others' turn; level-triggered epoll brings it back
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      drop(c);  // closed by the client, or broken
      return;
    }
    step(c);
  }

  void expire(steady::time_point now) {
    std::vector<conn_ptr> due;
    for (auto& [fd, c] : waiting)
      if (now >= c->deadline)
        due.push_back(c);
    for (auto& c : due) {
      if (c->closing || !c->reader.started()) {
        drop(c);  // drained, or an idle connection: closed without a word
      } else {
        ++timeouts;
        refuse(*c, 408, "The request did not arrive within " +
                          std::to_string(opt.request_deadline.count() / 1000) + " s");
      }
    }
  }

  void run() {
    std::vector<epoll_event> events(256);
    auto next_tick = steady::now();
    for (;;) {
      int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), tick_ms);
      std::vector<conn_ptr> arrived;
      {
        std::lock_guard<std::mutex> guard(mutex);
        if (stopping)
          break;
        arrived.swap(inbox);
      }
      for (auto& c : arrived) {
        watch(c);
        if (!c->in.empty())
          step(c);  // a pipelined request already here
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake) {
          std::uint64_t count;
          [[maybe_unused]] auto r = ::read(wake, &count, sizeof count);
          continue;
        }
        auto it = waiting.find(fd);
        if (it != waiting.end())
          on_readable(it->second);
      }
      auto now = steady::now();
      if (now >= next_tick) {
        expire(now);
        next_tick = now + std::chrono::milliseconds(tick_ms);
      }
    }
    for (auto& [fd, c] : waiting)
      close_conn(*c);
    waiting.clear();
    std::lock_guard<std::mutex> guard(mutex);
    for (auto& c : inbox)
      close_conn(*c);
    inbox.clear();
  }
};

front_door::front_door(front_options options, elastic_pool& pool)
  : impl_(std::make_shared<impl>(std::move(options), pool)) {
  impl_->thread = std::thread([i = impl_] { i->run(); });
}

front_door::~front_door() { shutdown(); }

void front_door::set_server(serve_fn serve) { impl_->serve = std::move(serve); }

void front_door::adopt(int fd) {
  auto& i = *impl_;
  set_nonblocking(fd);
  if (++i.open > i.opt.max_connections) {
    ++i.busy;
    auto text = answer_text(503, "Server busy: too many connections", i.opt.extra_headers);
    [[maybe_unused]] auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
    --i.open;
    return;
  }
  auto c = std::make_shared<impl::conn>();
  c->fd = fd;
  c->reader = request_reader(i.opt.limits);
  c->deadline = steady::now() + i.opt.request_deadline;
  i.hand_in(std::move(c));
}

void front_door::shutdown() {
  {
    std::lock_guard<std::mutex> guard(impl_->mutex);
    impl_->stopping = true;
    impl_->notify();
  }
  if (impl_->thread.joinable())
    impl_->thread.join();
}

front_door::counts front_door::snapshot() const {
  return counts{impl_->open, impl_->busy, impl_->limits, impl_->timeouts};
}

std::unique_ptr<httplib::Server> make_guarded_server(front_door& door,
                                                     std::chrono::milliseconds write_timeout) {
  return std::make_unique<guarded_server>(door, write_timeout);
}

}  // namespace matchsync::http
