// MATCHSYNC_AUTH=none on a laptop, against the real server: another site's
// form post is 415, a DNS-rebinding name or a foreign Origin is 403, the
// user's own JSON POST works.
#define BOOST_TEST_MODULE local_guard_server
#include <boost/test/unit_test.hpp>

#include "test/http/api_harness.hpp"

using namespace matchsync::test;
using namespace std::chrono_literals;

namespace {
std::string request(const std::string& method, const std::string& path, const std::string& headers,
                    const std::string& body = "") {
  return method + " " + path + " HTTP/1.1\r\n" + headers + "Content-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}
}  // namespace

BOOST_AUTO_TEST_CASE(with_auth_none_only_the_users_own_json_requests_act) {
  api_harness::options o;
  o.database = "http_local_guard";
  api_harness node(o);
  auto cfg = node.node_config();
  cfg.auth = "none";
  cfg.default_account_id = 1501;
  running_server open(cfg, node.node_services(10s));
  auto port = open.port();
  const std::string local = "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";

  auto plain = raw_exchange(port, request("POST", "/sync/trigger", local + "Content-Type: text/plain\r\n", "{}"));
  BOOST_TEST(plain.status == 415);
  auto form = raw_exchange(port, request("POST", "/sync/trigger",
                                         local + "Content-Type: application/x-www-form-urlencoded\r\n", "a=b"));
  BOOST_TEST(form.status == 415);
  auto bare = raw_exchange(port, request("POST", "/sync/trigger", local));
  BOOST_TEST(bare.status == 415);
  auto rebound = raw_exchange(port, request("GET", "/sync/status", "Host: evil.example\r\n"));
  BOOST_TEST(rebound.status == 403);
  BOOST_TEST(rebound.json().value("detail", "").find("Host") != std::string::npos);
  auto rebound_port = raw_exchange(port, request("GET", "/", "Host: evil.example:" + std::to_string(port) + "\r\n"));
  BOOST_TEST(rebound_port.status == 403);
  auto foreign = raw_exchange(port, request("POST", "/sync/trigger",
                                            local + "Origin: http://evil.example\r\nContent-Type: application/json\r\n", "{}"));
  BOOST_TEST(foreign.status == 403);
  // Nothing of that made a job.
  auto jobs = raw_exchange(port, request("GET", "/sync/jobs", local));
  BOOST_TEST(jobs.status == 200);
  BOOST_TEST(jobs.body == "[]");
  // The user's own page and tools.
  auto own = raw_exchange(port, request("POST", "/sync/trigger",
                                        "Host: localhost:" + std::to_string(port) +
                                          "\r\nOrigin: http://localhost:" + std::to_string(port) +
                                          "\r\nContent-Type: application/json\r\n", "{}"));
  BOOST_TEST(own.status == 201);
  client mine(port);
  auto cancel = mine.post("/sync/cancel/" + std::to_string(own.json()["id"].get<std::int64_t>()), "{}");
  BOOST_TEST((cancel.status == 200 || cancel.status == 400));
}
