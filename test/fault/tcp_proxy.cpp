#include "test/fault/tcp_proxy.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace matchsync::test::fault {

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

// A close that sends RST, as a broken network path looks to the peer.
void hard_close(int fd) {
  linger hard{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
}

}  // namespace

tcp_proxy::tcp_proxy(int target_port, bool record)
  : target_port_(target_port), record_(record) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  auto addr = loopback(0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("tcp_proxy: cannot listen");
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

tcp_proxy::~tcp_proxy() {
  cut();
}

void tcp_proxy::accept_loop() {
  while (!cut_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0)
      continue;
    int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0)
      continue;
    if (blocked_) {
      hard_close(client);
      continue;
    }
    int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
    auto addr = loopback(target_port_);
    if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      hard_close(client);
      ::close(upstream);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (cut_) {
      hard_close(client);
      hard_close(upstream);
      break;
    }
    ++accepted_;
    ++pumping_;
    threads_.emplace_back([this, client, upstream] { pump(client, upstream); });
  }
  ::close(listen_fd_);
}

std::string tcp_proxy::relayed() const {
  std::lock_guard<std::mutex> guard(seen_mutex_);
  return seen_;
}

void tcp_proxy::pump(int a, int b) {
  char buf[16384];
  pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (!cut_ && !blocked_) {
    if (frozen_ || ::poll(p, 2, 20) <= 0) {
      if (frozen_)
        ::poll(nullptr, 0, 20);  // hold the bytes in the kernel's buffers
      continue;
    }
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      auto n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        closed = true;
        break;
      }
      if (record_) {
        std::lock_guard<std::mutex> guard(seen_mutex_);
        seen_.append(buf, static_cast<std::size_t>(n));
      }
      for (ssize_t off = 0; off < n;) {
        auto w = ::write(p[1 - i].fd, buf + off, static_cast<size_t>(n - off));
        if (w <= 0) {
          closed = true;
          break;
        }
        off += w;
      }
    }
    if (closed)
      break;
  }
  // Both ends see the path die at once; descriptors are closed here only,
  // by the one thread that owns them.
  hard_close(a);
  hard_close(b);
  --pumping_;
}

void tcp_proxy::block() {
  blocked_ = true;
  // Each pump sees the flag within a poll interval and resets its ends.
  while (pumping_ > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void tcp_proxy::restore() { blocked_ = false; }

void tcp_proxy::cut() {
  cut_ = true;
  // Every thread sees the flag within a poll interval and closes what it
  // owns; when cut() returns the port is closed and the connections reset.
  if (acceptor_.joinable())
    acceptor_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

}  // namespace matchsync::test::fault
