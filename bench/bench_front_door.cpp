// bench_front_door: GET /sync/status from a real user at a fixed rate while
// hostile connections sit on a real `matchsync serve` (issue 17's benchmark).
//
// The real client is open-loop: request k is due at start + k / rate, sent
// on the next free one of its keep-alive connections (in turn), and its latency runs
// from when it was due, not from when it went out, so a stalled server is
// not hidden by a client that waited for it (coordinated omission). It runs
// twice for --duration seconds: alone ("quiet"), then ("hostile") while
//   - --slowloris connections each trickle one byte a second of a request
//     head that never ends (the front door cuts each after 10 s with 408;
//     it is opened again at once), and
//   - --idle keep-alive connections, each after one answered GET /health,
//     sit idle (the server closes them after 2 s; each is opened again).
// Prints RESULT lines (bench/run.sh's format): achieved rate, p50/p90/p99/
// p99.9/max from the due time and p99 from the send, answers by status,
// errors, how many hostile connections were open (the fewest seen), the
// 408s (other ends of a slow connection, a failed connect included, apart)
// and idle closes, and serve's RSS, threads and CPU.
//
//   bench_front_door [--rate 10000] [--duration 20] [--connections 64]
//                    [--slowloris 200] [--idle 100]
//
// Needs MATCHSYNC_BENCH_PG_URL (bench/run.sh sets it); creates (drops
// first) the database bench_front_door; runs build/app/matchsync.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <stdexcept>
#include <thread>

#include <pqxx/pqxx>

#include "bench/support/bench_support.hpp"
#include "core/token.hpp"
#include "persistence/user_store.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

const std::string name = "front_door";

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool send_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// One whole answer at the front of `buf`: its status, its length in bytes
// (head and body) and whether the server will close; nullopt while partial.
struct answer {
  int status = 0;
  std::size_t length = 0;
  bool closes = false;
};

std::optional<answer> parse_answer(const std::string& buf) {
  auto end = buf.find("\r\n\r\n");
  if (end == std::string::npos)
    return std::nullopt;
  answer a;
  if (buf.size() < 12)
    return std::nullopt;
  a.status = std::atoi(buf.c_str() + 9);
  std::size_t body = 0;
  std::string head = buf.substr(0, end);
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
    body = static_cast<std::size_t>(std::strtoull(head.c_str() + at + 17, nullptr, 10));
  a.closes = head.find("\r\nconnection: close") != std::string::npos;
  a.length = end + 4 + body;
  if (buf.size() < a.length)
    return std::nullopt;
  return a;
}

// ---- the real client: open loop at a fixed rate ----------------------------

struct paced_figures {
  std::vector<double> from_due_ms, from_send_ms;
  double client_cpu_s = 0, serve_cpu_s = 0;  // during the run
  std::map<int, long> statuses;
  long errors = 0;      // connection lost with a request in flight, or no connect
  long reconnects = 0;  // connections the server closed between requests
  long sent = 0;
  double seconds = 0;
};

struct client_conn {
  int fd = -1;
  bool busy = false;
  steady::time_point due, sent;
  std::string buf;
};

paced_figures run_paced(int port, int serve_pid, const std::string& token, double rate,
                        std::chrono::seconds duration, int connections) {
  paced_figures out;
  auto client_cpu = bench::cpu_seconds(0);
  auto serve_cpu = bench::cpu_seconds(serve_pid);
  const std::string request = "GET /sync/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Authorization: Bearer " + token + "\r\n\r\n";
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u64 = ~0ull;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, timer, &tev);
  std::vector<client_conn> conns(static_cast<std::size_t>(connections));
  auto open = [&](std::size_t i) {
    auto& c = conns[i];
    if (c.fd >= 0) {
      ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    c = client_conn{};
    c.fd = connect_to(port);
    if (c.fd < 0)
      return false;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    return true;
  };
  for (std::size_t i = 0; i < conns.size(); ++i)
    if (!open(i))
      throw std::runtime_error("cannot connect to serve");
  // Free connections in turn (oldest free first): each is used every
  // connections / rate seconds, never left idle long enough for the
  // server's idle bound to close it under a request about to be sent.
  std::deque<std::size_t> free_conns;
  for (std::size_t i = 0; i < conns.size(); ++i)
    free_conns.push_back(i);

  auto interval = std::chrono::duration_cast<steady::duration>(
    std::chrono::duration<double>(1.0 / rate));
  auto start = steady::now() + 10ms;
  auto stop_sending = start + duration;
  long k = 0;
  auto due_of = [&](long n) { return start + interval * n; };
  auto arm = [&](steady::time_point at) {
    itimerspec ts{};
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
    ts.it_value.tv_sec = ns / 1000000000;
    ts.it_value.tv_nsec = ns % 1000000000;
    ::timerfd_settime(timer, TFD_TIMER_ABSTIME, &ts, nullptr);
  };
  long in_flight = 0;
  std::vector<epoll_event> events(static_cast<std::size_t>(connections) + 1);
  char chunk[16384];
  for (;;) {
    auto now = steady::now();
    // Send what is due, oldest first, on free connections.
    while (due_of(k) <= now && due_of(k) < stop_sending && !free_conns.empty()) {
      auto i = free_conns.front();
      free_conns.pop_front();
      auto& c = conns[i];
      c.due = due_of(k);
      c.sent = steady::now();
      ++k;
      ++out.sent;
      if (!send_all(c.fd, request)) {
        ++out.errors;
        if (open(i))
          free_conns.push_back(i);
        continue;
      }
      c.busy = true;
      ++in_flight;
    }
    bool more = due_of(k) < stop_sending;
    if (!more && in_flight == 0)
      break;
    if (more)
      arm(std::max(due_of(k), now + 20us));
    int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), more ? 100 : 5000);
    if (n == 0 && !more)
      break;  // answers that never came: counted below as errors
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == ~0ull) {
        std::uint64_t ticks;
        (void)!::read(timer, &ticks, sizeof(ticks));
        continue;
      }
      auto i = static_cast<std::size_t>(events[e].data.u64);
      auto& c = conns[i];
      bool lost = false;
      for (;;) {
        auto r = ::recv(c.fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (r > 0) {
          c.buf.append(chunk, static_cast<std::size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR))
          lost = true;
        break;
      }
      bool closes = false;
      if (c.busy) {
        if (auto a = parse_answer(c.buf)) {
          auto at = steady::now();
          out.from_due_ms.push_back(bench::ms_between(c.due, at));
          out.from_send_ms.push_back(bench::ms_between(c.sent, at));
          ++out.statuses[a->status];
          c.buf.erase(0, a->length);
          c.busy = false;
          --in_flight;
          closes = a->closes;
        }
      }
      if (lost || closes) {
        if (c.busy) {
          ++out.errors;
          --in_flight;
        } else {
          ++out.reconnects;
        }
        if (open(i))
          free_conns.push_back(i);
      } else if (!c.busy && std::find(free_conns.begin(), free_conns.end(), i) ==
                                free_conns.end()) {
        free_conns.push_back(i);
      }
    }
  }
  out.errors += in_flight;
  out.seconds = std::chrono::duration<double>(steady::now() - start).count();
  out.client_cpu_s = bench::cpu_seconds(0) - client_cpu;
  out.serve_cpu_s = bench::cpu_seconds(serve_pid) - serve_cpu;
  for (auto& c : conns)
    if (c.fd >= 0)
      ::close(c.fd);
  ::close(timer);
  ::close(ep);
  return out;
}

// ---- hostile connections: slowloris and idle keep-alives --------------------

class hostile_crowd {
public:
  hostile_crowd(int port, int slowloris, int idle)
    : port_(port), slow_(static_cast<std::size_t>(slowloris)),
      idle_(static_cast<std::size_t>(idle)) {
    thread_ = std::thread([this] { run(); });
  }
  ~hostile_crowd() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  // Waits until every connection has been opened once.
  bool wait_ready(std::chrono::seconds deadline) {
    return test::wait_until([&] { return ready_.load(); }, deadline);
  }
  void reset_counts() {
    fewest_open_ = static_cast<long>(slow_.size() + idle_.size());
    cut_408_ = 0;
    cut_other_ = 0;
    idle_closed_ = 0;
    counting_ = true;
  }
  long fewest_open() const { return fewest_open_; }
  long cut_408() const { return cut_408_; }
  long cut_other() const { return cut_other_; }
  long idle_closed() const { return idle_closed_; }

private:
  struct conn {
    int fd = -1;
    std::string buf;
    bool answered = false;  // idle: its one request was answered
  };

  void open_slow(conn& c) {
    if (c.fd >= 0)
      ::close(c.fd);
    c = conn{};
    c.fd = connect_to(port_);
    if (c.fd >= 0 &&
        !send_all(c.fd, "GET /sync/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "))
      c.fd = (::close(c.fd), -1);
  }
  void open_idle(conn& c) {
    if (c.fd >= 0)
      ::close(c.fd);
    c = conn{};
    c.fd = connect_to(port_);
    if (c.fd >= 0 && !send_all(c.fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
      c.fd = (::close(c.fd), -1);
  }

  // Reads what the server sent; true when it closed (or failed).
  static bool drain(conn& c) {
    char chunk[4096];
    for (;;) {
      auto r = ::recv(c.fd, chunk, sizeof(chunk), MSG_DONTWAIT);
      if (r > 0) {
        c.buf.append(chunk, static_cast<std::size_t>(r));
        continue;
      }
      return r == 0 || (errno != EAGAIN && errno != EINTR);
    }
  }

  void run() {
    // Opened over the first second, so the trickles are spread over it.
    auto begin = steady::now();
    std::size_t opened = 0;
    auto total = slow_.size() + idle_.size();
    auto next_trickle = begin + 1s;
    std::vector<pollfd> fds;
    while (!stop_) {
      auto now = steady::now();
      auto due = std::min<std::size_t>(
        total, static_cast<std::size_t>(static_cast<double>(total) *
                                        std::chrono::duration<double>(now - begin).count()) + 1);
      for (; opened < due; ++opened) {
        if (opened < slow_.size())
          open_slow(slow_[opened]);
        else
          open_idle(idle_[opened - slow_.size()]);
      }
      if (opened == total)
        ready_ = true;
      if (now >= next_trickle) {
        // One byte a second on every slow connection.
        for (std::size_t i = 0; i < std::min(opened, slow_.size()); ++i)
          if (slow_[i].fd >= 0 && !send_all(slow_[i].fd, "a"))
            slow_[i].fd = (::close(slow_[i].fd), -1);
        next_trickle += 1s;
      }
      fds.clear();
      for (auto* group : {&slow_, &idle_})
        for (auto& c : *group)
          fds.push_back(pollfd{c.fd, POLLIN | POLLRDHUP, 0});
      ::poll(fds.data(), fds.size(), 50);
      long open_now = 0;
      for (std::size_t i = 0; i < slow_.size() && i < opened; ++i) {
        auto& c = slow_[i];
        if (c.fd >= 0 && !(fds[i].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) {
          ++open_now;
          continue;
        }
        if (c.fd >= 0 && !drain(c))
          continue;  // bytes but no close yet
        if (counting_)
          (c.buf.compare(0, 12, "HTTP/1.1 408") == 0 ? cut_408_ : cut_other_)++;
        open_slow(c);
        if (c.fd >= 0)
          ++open_now;
      }
      for (std::size_t j = 0; j < idle_.size() && slow_.size() + j < opened; ++j) {
        auto& c = idle_[j];
        auto& p = fds[slow_.size() + j];
        if (c.fd >= 0 && !(p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))) {
          ++open_now;
          continue;
        }
        bool closed = c.fd < 0 || drain(c);
        if (!closed) {
          c.answered = parse_answer(c.buf).has_value();
          ++open_now;
          continue;
        }
        if (counting_)
          ++idle_closed_;
        open_idle(c);
        if (c.fd >= 0)
          ++open_now;
      }
      if (counting_ && ready_)
        fewest_open_ = std::min<long>(fewest_open_, open_now);
    }
    for (auto* group : {&slow_, &idle_})
      for (auto& c : *group)
        if (c.fd >= 0)
          ::close(c.fd);
  }

  int port_;
  std::vector<conn> slow_, idle_;
  std::atomic<bool> stop_{false}, ready_{false}, counting_{false};
  std::atomic<long> fewest_open_{0}, cut_408_{0}, cut_other_{0}, idle_closed_{0};
  std::thread thread_;
};

long proc_field(int pid, const std::string& field) { return bench::status_kb(pid, field); }

void report(const std::string& tag, const paced_figures& f, double rate) {
  auto r = [&](const std::string& metric, double v, const std::string& unit) {
    bench::result(name, tag + "_" + metric, v, unit);
  };
  r("offered", rate, "req/s");
  r("achieved", static_cast<double>(f.from_due_ms.size()) / f.seconds, "req/s");
  r("p50", bench::percentile(f.from_due_ms, 50), "ms");
  r("p90", bench::percentile(f.from_due_ms, 90), "ms");
  r("p99", bench::percentile(f.from_due_ms, 99), "ms");
  r("p999", bench::percentile(f.from_due_ms, 99.9), "ms");
  r("max", bench::percentile(f.from_due_ms, 100), "ms");
  r("p99_from_send", bench::percentile(f.from_send_ms, 99), "ms");
  long ok = 0, unavailable = 0, other = 0;
  for (auto& [status, n] : f.statuses)
    (status == 200 ? ok : status == 503 ? unavailable : other) += n;
  r("answers_200", static_cast<double>(ok), "requests");
  r("answers_503", static_cast<double>(unavailable), "requests");
  r("answers_other", static_cast<double>(other), "requests");
  r("errors", static_cast<double>(f.errors), "requests");
  r("reconnects", static_cast<double>(f.reconnects), "connections");
  r("client_cpu", f.client_cpu_s / f.seconds, "cores");
  r("serve_cpu", f.serve_cpu_s / f.seconds, "cores");
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  bench::args a(argc, argv);
  double rate = static_cast<double>(a.get_int("rate", 10000));
  auto duration = std::chrono::seconds(a.get_int("duration", 20));
  int connections = static_cast<int>(a.get_int("connections", 64));
  int slowloris = static_cast<int>(a.get_int("slowloris", 200));
  int idle = static_cast<int>(a.get_int("idle", 100));
  try {
    auto db = bench::fresh_database("bench_front_door");
    auto token = generate_token();
    {
      pqxx::connection c(db);
      db::user_store(c).create(4101, std::string("front door"), hash_token(token));
    }
    // matchsync warns about MATCHSYNC_* variables it does not know.
    std::string bench_url = bench::admin_url();
    ::unsetenv("MATCHSYNC_BENCH_PG_URL");
    test::child_process serve(
      {test::binary_path("app/matchsync"), "serve"},
      {{"MATCHSYNC_DATABASE_URL", db}, {"MATCHSYNC_HTTP_HOST", "127.0.0.1"},
       {"MATCHSYNC_HTTP_PORT", "0"}, {"MATCHSYNC_AUTH", "token"},
       {"MATCHSYNC_UPSTREAM_URL", "demo"}, {"MATCHSYNC_CLUSTER_SECRET", ""},
       {"MATCHSYNC_LOG_FORMAT", "text"}});
    ::setenv("MATCHSYNC_BENCH_PG_URL", bench_url.c_str(), 1);
    if (!serve.wait_for_output("listening url=http://127.0.0.1:", 60s))
      throw std::runtime_error("serve did not listen: " + serve.output());
    std::smatch m;
    auto text = serve.output();
    std::regex_search(text, m, std::regex("listening url=http://127\\.0\\.0\\.1:(\\d+)/"));
    int port = std::stoi(m[1].str());

    // Warm: the token cache, the board, the threads.
    run_paced(port, serve.pid(), token, 1000, 2s, connections);

    bench::note(name, "quiet: load average before " + load_average());
    auto quiet = run_paced(port, serve.pid(), token, rate, duration, connections);
    report("quiet", quiet, rate);

    hostile_crowd crowd(port, slowloris, idle);
    if (!crowd.wait_ready(30s))
      throw std::runtime_error("the hostile connections did not open");
    // Past the first trickles, so the slow heads are mid-way.
    std::this_thread::sleep_for(2s);
    auto rss_before = proc_field(serve.pid(), "VmRSS");
    crowd.reset_counts();
    bench::note(name, "hostile: load average before " + load_average());
    auto hostile = run_paced(port, serve.pid(), token, rate, duration, connections);
    bench::note(name, "hostile: load average after " + load_average());
    auto rss_after = proc_field(serve.pid(), "VmRSS");
    long fewest = crowd.fewest_open();
    long cut_408 = crowd.cut_408(), cut_other = crowd.cut_other();
    long idle_closed = crowd.idle_closed();
    auto threads = proc_field(serve.pid(), "Threads");
    crowd.stop();
    report("hostile", hostile, rate);
    bench::result(name, "hostile_open_fewest", static_cast<double>(fewest), "connections");
    bench::result(name, "hostile_slowloris_cut_408", static_cast<double>(cut_408), "connections");
    bench::result(name, "hostile_slowloris_cut_other", static_cast<double>(cut_other),
                  "connections");
    bench::result(name, "hostile_idle_closed", static_cast<double>(idle_closed), "connections");
    bench::result(name, "serve_rss_before", static_cast<double>(rss_before) / 1024, "MB");
    bench::result(name, "serve_rss_after", static_cast<double>(rss_after) / 1024, "MB");
    bench::result(name, "serve_threads", static_cast<double>(threads), "threads");
    serve.signal(SIGTERM);
    serve.wait_exit(20s);
  } catch (const std::exception& e) {
    std::cerr << "bench_front_door: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
