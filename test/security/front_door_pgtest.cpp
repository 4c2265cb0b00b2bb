// Hostile HTTP clients against the real `matchsync serve`, over raw sockets
// (no client library would send these): each of SPEC §4's limits answers its
// status, the process's memory stays where it was, and a real user's
// /sync/status is answered promptly all the while; slow and idle connections
// hold no thread and are closed at their deadline.
#define BOOST_TEST_MODULE front_door
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <pqxx/pqxx>

#include "test/fake_opendota/fake_server.hpp"
#include "test/fault/fault_harness.hpp"
#include "test/security/raw_http.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"
#include "test/support/sanitizer.hpp"

using namespace matchsync::test;
using namespace matchsync::test::fault;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct hostile_serve {
  hostile_serve() : url(fresh_database("front_door")), token(user_token(url, 7701)) {
    auto env = node_env(url, fake.url(), "front-node");
    env["MATCHSYNC_AUTH"] = "token";
    serve = start_serve(env);
    port = serve.http_port;
  }
  ~hostile_serve() {
    serve.process->signal(SIGTERM);
    serve.process->wait_exit(20s);
  }
  // A real user's /sync/status: its status and how long it took.
  std::pair<int, long> status_probe() const {
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(5, 0);
    auto t0 = steady::now();
    auto r = cli.Get("/sync/status", {{"Authorization", "Bearer " + token}});
    long ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
    return {r ? r->status : 0, ms};
  }
  long rss_kb() const { return proc_status(serve.process->pid(), "VmRSS"); }
  long threads() const { return proc_status(serve.process->pid(), "Threads"); }

  fake_opendota fake;
  std::string url, token;
  serve_process serve;
  int port = 0;
};

std::string many_ranges(int n) {
  std::string out = "bytes=";
  for (int i = 0; i < n; ++i)
    out += (i ? "," : "") + std::to_string(i) + "-" + std::to_string(i);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(front_door)

BOOST_AUTO_TEST_CASE(each_limit_answers_its_status_and_the_process_keeps_its_memory) {
  hostile_serve s;
  auto auth = "Authorization: Bearer " + s.token + "\r\n";
  auto post = "POST /sync/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
              "Content-Type: application/json\r\n";
  std::string two_thousand;
  for (int i = 0; i < 2000; ++i)
    two_thousand += "X-Header-" + std::to_string(i) + ": value\r\n";
  std::string chunks;
  for (int i = 0; i < 72; ++i)
    chunks += "400\r\n" + std::string(1024, ' ') + "\r\n";
  chunks += "0\r\n\r\n";
  struct hostile {
    std::string name, bytes;
    int status;
  };
  std::vector<hostile> cases{
    {"2,000 headers", "GET /sync/status HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + two_thousand + "\r\n", 431},
    {"Content-Length: abc", post + "Content-Length: abc\r\n\r\n{}", 400},
    {"two lengths", post + "Content-Length: 2\r\nContent-Length: 20\r\n\r\n{}", 400},
    {"72 KiB chunked", post + "Transfer-Encoding: chunked\r\n\r\n" + chunks, 413},
    {"gzip body", post + "Content-Encoding: gzip\r\nContent-Length: 20\r\n\r\n" +
                    std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xab\xae\x05\x00\x43\xbf\xa6\xa3\x02\x00", 20), 415},
    {"3,000 ranges", "GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: " + many_ranges(3000) + "\r\n\r\n", 431},
    // Within the line limit, a multi-range request is served whole.
    {"800 ranges", "GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nRange: " +
                     many_ranges(800) + "\r\n\r\n", 200},
  };
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE_EQUAL(s.status_probe().first, 200);
  auto rss_before = s.rss_kb();
  for (int round = 0; round < 10; ++round)
    for (auto& h : cases) {
      auto answer = send_raw(s.port, h.bytes);
      BOOST_TEST(status_of(answer) == h.status, h.name << ": " << answer.substr(0, 200));
      if (h.status == 200)
        BOOST_TEST(answer.find("multipart/byteranges") == std::string::npos);
      auto [status, ms] = s.status_probe();
      BOOST_TEST(status == 200);
      // A functional bound (a starved pool took 2 s); the 50 ms is
      // a speed target for bench/, not for a test on a shared machine.
      BOOST_TEST(ms < 300 * sanitizer_slowdown,
                 h.name << ": /sync/status took " << ms << " ms");
    }
  auto rss_after = s.rss_kb();
  BOOST_TEST_MESSAGE("RSS " << rss_before << " kB before, " << rss_after << " kB after");
  if (rss_is_meaningful)
    BOOST_TEST(rss_after - rss_before < 5 * 1024);
  // None of the refused triggers made a job.
  httplib::Client cli("127.0.0.1", s.port);
  auto st = cli.Get("/sync/jobs", {{"Authorization", "Bearer " + s.token}});
  BOOST_REQUIRE(st);
  BOOST_TEST(st->body == "[]");
}

BOOST_AUTO_TEST_CASE(slow_and_idle_connections_hold_no_thread_and_miss_their_deadline) {
  hostile_serve s;
  auto threads_before = s.threads();
  auto rss_before = s.rss_kb();
  std::vector<int> idle, slow;
  for (int i = 0; i < 300; ++i)
    idle.push_back(connect_loopback(s.port));
  const std::string trickle = "GET /sync/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  for (int i = 0; i < 200; ++i)
    slow.push_back(connect_loopback(s.port));
  auto opened = steady::now();
  // A slowloris client: one byte a second on each connection.
  std::atomic<bool> done{false};
  std::thread trickler([&] {
    for (std::size_t i = 0; !done && i < trickle.size(); ++i) {
      for (int fd : slow)
        ::send(fd, &trickle[i], 1, MSG_NOSIGNAL);
      for (int t = 0; t < 20 && !done; ++t)
        std::this_thread::sleep_for(50ms);  // the attacker's pace
    }
  });
  // Meanwhile a real user is served at once, and no thread was spent.
  long worst = 0, threads_most = 0;
  while (steady::now() - opened < 8s) {
    auto [status, ms] = s.status_probe();
    BOOST_TEST(status == 200);
    worst = std::max(worst, ms);
    threads_most = std::max(threads_most, s.threads());
  }
  BOOST_TEST_MESSAGE("/sync/status worst " << worst << " ms; threads " << threads_before
                                           << " before, at most " << threads_most);
  // Functional: the old server took 2 s here. Scaled as the bound above
  // (ASan x3, TSan x5: still under 2 s); unscaled it failed once under ASan
  // beside the TSan build (384 ms).
  BOOST_TEST(worst < 300 * sanitizer_slowdown);
  BOOST_TEST(threads_most < threads_before + 8);
  // At 10 s the slow requests get 408 and the idle connections are closed.
  auto answered = [&](int fd, std::string& out) {
    char buf[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0)
        return false;
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0)
        return true;
      out.append(buf, static_cast<std::size_t>(n));
    }
  };
  std::vector<std::string> slow_out(slow.size()), idle_out(idle.size());
  std::vector<bool> slow_closed(slow.size()), idle_closed(idle.size());
  BOOST_TEST(wait_until(
    [&] {
      bool all = true;
      for (std::size_t i = 0; i < slow.size(); ++i)
        all = (slow_closed[i] = slow_closed[i] || answered(slow[i], slow_out[i])) && all;
      for (std::size_t i = 0; i < idle.size(); ++i)
        all = (idle_closed[i] = idle_closed[i] || answered(idle[i], idle_out[i])) && all;
      return all;
    },
    20s));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - opened);
  done = true;
  trickler.join();
  BOOST_TEST(took.count() >= 9000);
  int timeouts = 0;
  for (auto& out : slow_out)
    timeouts += status_of(out) == 408;
  BOOST_TEST(timeouts == 200);
  for (auto& out : idle_out)
    BOOST_TEST(out.empty());
  for (int fd : idle)
    ::close(fd);
  for (int fd : slow)
    ::close(fd);
  if (rss_is_meaningful)
    BOOST_TEST(s.rss_kb() - rss_before < 5 * 1024);
  BOOST_TEST(s.status_probe().first == 200);
}

// When every one of the pool's 256 threads is taken (reads waiting on a
// locked sync_jobs, or for a database connection behind them), a new
// request gets 503 at once instead of a place in a queue without end, and
// once the lock goes every held request is answered.
BOOST_AUTO_TEST_CASE(when_every_thread_is_taken_a_new_request_gets_503_at_once) {
  hostile_serve s;
  pqxx::connection locker(s.url);
  pqxx::work lock(locker);
  lock.exec("LOCK TABLE sync_jobs IN ACCESS EXCLUSIVE MODE");
  const std::string read = "GET /sync/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Authorization: Bearer " + s.token + "\r\n\r\n";
  std::vector<int> held;
  for (int i = 0; i < 300; ++i) {
    int fd = connect_loopback(s.port);
    BOOST_REQUIRE(fd >= 0);
    BOOST_REQUIRE(::send(fd, read.data(), read.size(), MSG_NOSIGNAL) ==
                  static_cast<ssize_t>(read.size()));
    held.push_back(fd);
  }
  // Asked until the pool is full: then the answer is 503, and fast.
  std::string busy;
  long took_ms = 0;
  BOOST_TEST(wait_until(
    [&] {
      auto t0 = steady::now();
      busy = send_raw(s.port, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n", 10s);
      took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0).count();
      return status_of(busy) == 503;
    },
    20s));
  BOOST_TEST(status_of(busy) == 503, busy.substr(0, 200));
  BOOST_TEST(busy.find("Server busy") != std::string::npos);
  // At once: a request queued behind the held ones would wait for the lock.
  BOOST_TEST(took_ms < 1000 * sanitizer_slowdown, "the 503 took " << took_ms << " ms");
  BOOST_TEST(s.threads() >= 256);
  lock.abort();
  // The held reads are answered once the table is free (those beyond the
  // pool's 256 threads got the 503 themselves).
  int ok = 0, refused = 0;
  for (int fd : held) {
    auto out = read_raw(fd, 30s, "\r\n\r\n");
    ::close(fd);
    (status_of(out) == 200 ? ok : refused)++;
    BOOST_TEST((status_of(out) == 200 || status_of(out) == 503), out.substr(0, 100));
  }
  BOOST_TEST_MESSAGE(ok << " held reads answered 200, " << refused << " refused 503");
  BOOST_TEST(ok >= 200);
  BOOST_TEST(wait_until([&] { return s.status_probe().first == 200; }, 10s));
}

// A kept-alive connection that went quiet after its answer is closed after
// a bounded idle time (2 s), well before the 10 s a request may take to
// arrive; a connection that is still sending is not "idle".
BOOST_AUTO_TEST_CASE(a_kept_alive_connection_idle_after_its_answer_is_closed) {
  hostile_serve s;
  int fd = connect_loopback(s.port);
  BOOST_REQUIRE(fd >= 0);
  const std::string ask = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  BOOST_REQUIRE(::send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(ask.size()));
  std::string got;
  bool closed = false;
  auto answered_at = steady::now();
  // Reads until the server closes; the answer comes first.
  BOOST_TEST(wait_until(
    [&] {
      char buf[4096];
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0)
        return false;
      auto n = ::read(fd, buf, sizeof buf);
      if (n <= 0)
        return closed = true;
      if (got.empty())
        answered_at = steady::now();
      got.append(buf, static_cast<std::size_t>(n));
      return false;
    },
    9s));
  auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - answered_at);
  ::close(fd);
  BOOST_TEST(status_of(got) == 200);
  BOOST_TEST(closed);
  BOOST_TEST_MESSAGE("closed " << idle.count() << " ms after the answer");
  BOOST_TEST(idle.count() < 8000);  // the idle bound, not the request deadline
}

BOOST_AUTO_TEST_SUITE_END()
