// serve and worker under a service manager (Type=notify): each sends
// READY=1 once started and STOPPING=1 at SIGTERM, then exits 0 within the
// units' TimeoutStopSec. The manager is played by a datagram socket named in
// NOTIFY_SOCKET, as systemd does.
#define BOOST_TEST_MODULE service_notify
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

// The units' TimeoutStopSec (packaging/*.service.in).
constexpr auto unit_stop_timeout = 30s;

class notify_socket {
public:
  explicit notify_socket(const std::string& name)
    : path_(test::test_output_dir("service_notify") + "/" + name + ".sock") {
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    BOOST_REQUIRE(path_.size() < sizeof(addr.sun_path));
    std::strcpy(addr.sun_path, path_.c_str());
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~notify_socket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

  /// Waits for a datagram holding the line `state`; false at the deadline.
  bool wait_for(const std::string& state, std::chrono::milliseconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf) - 1, 0);
      if (n <= 0)
        continue;
      std::string msg(buf, static_cast<std::size_t>(n));
      received += msg + "\n";
      if (("\n" + msg + "\n").find("\n" + state + "\n") != std::string::npos)
        return true;
    }
    return false;
  }
  std::string received;

private:
  std::string path_;
  int fd_ = -1;
};

std::map<std::string, std::string> serve_env(const std::string& url) {
  return {{"MATCHSYNC_DATABASE_URL", url},
          {"MATCHSYNC_HTTP_PORT", "0"},
          {"MATCHSYNC_AUTH", "none"},
          {"MATCHSYNC_DEFAULT_ACCOUNT_ID", "86745912"},
          {"MATCHSYNC_UPSTREAM_URL", "demo"},
          {"MATCHSYNC_CLUSTER_PORT", "0"},
          {"MATCHSYNC_CLUSTER_SECRET", "s3cret"}};
}

void stops_within_the_unit_timeout(test::child_process& p, notify_socket& manager) {
  p.signal(SIGTERM);
  BOOST_TEST(manager.wait_for("STOPPING=1", 10s), "no STOPPING=1: " << manager.received);
  BOOST_TEST(p.wait_exit(unit_stop_timeout) == 0, p.output());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(service_notify)

BOOST_AUTO_TEST_CASE(serve_is_ready_once_listening_and_stops_on_sigterm) {
  auto url = test::fresh_database("notify_serve");
  notify_socket manager("serve");
  auto env = serve_env(url);
  env["NOTIFY_SOCKET"] = manager.path();
  test::child_process serve({test::binary_path("app/matchsync"), "serve"}, env);
  BOOST_REQUIRE_MESSAGE(manager.wait_for("READY=1", 60s), serve.output());
  // Ready means bound: the HTTP port is already in the log.
  BOOST_TEST(serve.output().find("listening url=") != std::string::npos, serve.output());
  stops_within_the_unit_timeout(serve, manager);
}

BOOST_AUTO_TEST_CASE(a_worker_is_ready_and_stops_on_sigterm) {
  auto url = test::fresh_database("notify_worker");
  test::child_process serve({test::binary_path("app/matchsync"), "serve"}, serve_env(url));
  BOOST_REQUIRE_MESSAGE(serve.wait_for_output("cluster listening", 60s), serve.output());
  std::smatch m;
  auto out = serve.output();
  BOOST_REQUIRE(std::regex_search(out, m, std::regex("cluster listening.*port=(\\d+)")));
  notify_socket manager("worker");
  test::child_process worker(
    {test::binary_path("app/matchsync"), "worker", "--coordinator", "127.0.0.1:" + m[1].str()},
    {{"MATCHSYNC_DATABASE_URL", url}, {"MATCHSYNC_CLUSTER_SECRET", "s3cret"},
     {"MATCHSYNC_NODE_ID", "w1"}, {"NOTIFY_SOCKET", manager.path()}});
  BOOST_REQUIRE_MESSAGE(manager.wait_for("READY=1", 60s), worker.output());
  stops_within_the_unit_timeout(worker, manager);
}

BOOST_AUTO_TEST_CASE(without_a_service_manager_nothing_changes) {
  // No NOTIFY_SOCKET (a terminal, scripts/run.sh): serve starts and stops as before.
  auto url = test::fresh_database("notify_none");
  test::child_process serve({test::binary_path("app/matchsync"), "serve"}, serve_env(url));
  BOOST_REQUIRE_MESSAGE(serve.wait_for_output("listening url=", 60s), serve.output());
  serve.signal(SIGTERM);
  BOOST_TEST(serve.wait_exit(unit_stop_timeout) == 0, serve.output());
  BOOST_TEST(serve.output().find("could not notify") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
