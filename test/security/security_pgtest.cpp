// Security checks against the real `matchsync serve`: what answers without a
// token, what reaches the logs, what the static file handler serves, and
// where the listeners bind when nothing is configured.
#define BOOST_TEST_MODULE security
#include <boost/test/unit_test.hpp>

#include <cstdio>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test/fake_opendota/fake_server.hpp"
#include "test/fault/fault_harness.hpp"
#include "test/security/raw_http.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync::test;
using namespace matchsync::test::fault;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// `matchsync user add` as an operator runs it; the token is its last line.
std::string add_user(const std::string& db_url, std::int64_t account) {
  return user_token(db_url, account, "sec-" + std::to_string(account));
}

// A token-mode serve on a fresh database, upstream = a fake.
struct token_serve {
  token_serve(const std::string& db, env_map extra = {})
    : url(fresh_database(db)), token(add_user(url, 7501)), other_token(add_user(url, 7502)) {
    fake.set_detail_size(200);
    fake.set_history_size(7501, 30);
    auto env = node_env(url, fake.url(), "sec-node");
    env["MATCHSYNC_AUTH"] = "token";
    for (auto& [k, v] : extra)
      env[k] = v;
    serve = start_serve(env);
  }
  fake_opendota fake;
  std::string url, token, other_token;
  serve_process serve;
};

// One raw HTTP/1.1 exchange, the request target sent byte for byte (no
// client normalises it). Returns the whole answer, or "" without one.
std::string raw_request(int port, const std::string& method, const std::string& target,
                        const std::string& extra_headers = "", const std::string& body = "") {
  return send_raw(port, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                          extra_headers + "Connection: close\r\n\r\n" + body);
}

struct endpoint {
  std::string method, path;
};

// Every route of SPEC §4 and of http/openapi.json, path parameters filled in.
std::vector<endpoint> all_endpoints() {
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<endpoint> out;
  auto add = [&](std::string method, std::string path) {
    path = std::regex_replace(path, std::regex(R"(\{[^}]+\})"), "1");
    if (seen.insert({method, path}).second)
      out.push_back({method, path});
  };
  for (auto& [m, p] : std::vector<std::pair<const char*, const char*>>{
         {"POST", "/sync/trigger"}, {"POST", "/sync/cancel/{job_id}"},
         {"GET", "/sync/status"}, {"GET", "/sync/jobs"}, {"GET", "/sync/jobs/{job_id}"},
         {"GET", "/sync/events"}, {"GET", "/matches"}, {"GET", "/matches/{match_id}"},
         {"GET", "/stats/summary"}, {"GET", "/workers"}, {"GET", "/health"},
         {"GET", "/ready"}, {"GET", "/metrics"}})
    add(m, p);
  std::ifstream in(std::string(MATCHSYNC_SOURCE_DIR) + "/http/openapi.json");
  auto doc = json::parse(in);
  for (auto& [path, ops] : doc.at("paths").items())
    for (auto& [method, op] : ops.items()) {
      std::string upper;
      for (char ch : method)
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      add(upper, path);
    }
  return out;
}

bool is_public(const endpoint& e) {
  // SPEC §4: /health, /ready, /metrics (and the static files, walked apart).
  // /openapi.json is the API's own description, not in SPEC §4's table and
  // declared public (security: []) by openapi.json itself.
  static const std::set<std::string> open{"/health", "/ready", "/metrics", "/openapi.json"};
  return e.method == "GET" && open.count(e.path) > 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(security)

BOOST_AUTO_TEST_CASE(in_token_mode_only_health_ready_metrics_and_static_files_answer_without_a_token) {
  token_serve s("security_routes");
  const int port = s.serve.http_port;
  std::string wrong = s.token;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  // No header, and every way a header can fail to carry a valid token.
  const std::vector<std::string> bad_headers{
    "",
    "Authorization: Bearer " + wrong + "\r\n",
    "Authorization: Bearer \r\n",
    "Authorization: Bearer\r\n",
    "Authorization: Basic " + s.token + "\r\n",
    "Authorization: " + s.token + "\r\n",
    "Authorization: Bearer " + s.token + "x\r\n",
    "Authorization: Bearer  " + wrong + "\r\n",
    "X-Api-Key: " + s.token + "\r\n",
  };
  auto endpoints = all_endpoints();
  BOOST_TEST(endpoints.size() >= 14u);
  int walked = 0;
  for (auto& e : endpoints) {
    for (auto& h : bad_headers) {
      auto answer = raw_request(port, e.method, e.path, h);
      int status = status_of(answer);
      ++walked;
      if (is_public(e))
        BOOST_TEST(status == 200, e.method << " " << e.path << " [" << h << "] answered "
                                           << status);
      else
        BOOST_TEST(status == 401, e.method << " " << e.path << " [" << h << "] answered "
                                           << status << ": " << answer.substr(0, 300));
    }
    // A token in the query string is not a credential.
    auto q = raw_request(port, e.method,
                         e.path + "?token=" + s.token + "&access_token=" + s.token);
    if (!is_public(e))
      BOOST_TEST(status_of(q) == 401, e.method << " " << e.path << " with ?token= answered "
                                                << status_of(q));
    // With the token every protected route is reachable (the walk is real).
    if (!is_public(e) && e.path != "/sync/events") {
      auto ok = raw_request(port, e.method, e.path,
                            "Authorization: Bearer " + s.token +
                              "\r\nContent-Length: 0\r\n");
      BOOST_TEST(status_of(ok) != 401, e.method << " " << e.path << " refused a valid token");
      BOOST_TEST(status_of(ok) != 0, e.method << " " << e.path << " gave no answer");
    }
  }
  // Another method on a known path, case and slash variants: never data.
  for (auto& [m, p] : std::vector<std::pair<std::string, std::string>>{
         {"DELETE", "/sync/jobs/1"}, {"PUT", "/sync/trigger"}, {"POST", "/sync/status"},
         {"GET", "/SYNC/STATUS"}, {"GET", "/sync/status/"}, {"GET", "//sync/status"},
         {"GET", "/sync/./status"}, {"GET", "/sync/jobs/1/"}, {"GET", "/matches/../sync/status"},
         {"GET", "/sync%2fstatus"}, {"HEAD", "/sync/status"}, {"OPTIONS", "/sync/status"}}) {
    auto answer = raw_request(port, m, p);
    int status = status_of(answer);
    BOOST_TEST((status >= 400 && status < 500), m << " " << p << " answered " << status);
    BOOST_TEST(answer.find("is_syncing") == std::string::npos, m << " " << p << " leaked data");
  }
  // The dashboard's files need no token.
  for (auto* p : {"/", "/index.html", "/app.js", "/app.css"})
    BOOST_TEST(status_of(raw_request(port, "GET", p)) == 200, p);
  BOOST_TEST_MESSAGE("walked " << endpoints.size() << " routes, " << walked
                               << " requests without a valid token");
}

BOOST_AUTO_TEST_CASE(tokens_never_appear_in_text_or_json_logs) {
  for (std::string format : {"text", "json"}) {
    std::mt19937_64 rng(std::hash<std::string>{}(format));
    // A UUID (version 4): the only kind of key OpenDota, and our config,
    // accept; random per run, so a leak is this run's.
    char key[40];
    std::snprintf(key, sizeof key, "%08x-%04x-4%03x-a%03x-%012llx",
                  static_cast<unsigned>(rng()), static_cast<unsigned>(rng() & 0xffff),
                  static_cast<unsigned>(rng() & 0xfff), static_cast<unsigned>(rng() & 0xfff),
                  static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
    std::string api_key = key;
    token_serve s("security_logs_" + format,
                  {{"MATCHSYNC_LOG_FORMAT", format}, {"MATCHSYNC_UPSTREAM_API_KEY", api_key}});
    const int port = s.serve.http_port;
    std::string near_miss = s.token;
    near_miss.back() = near_miss.back() == 'A' ? 'B' : 'A';
    std::string forged = "forged" + std::to_string(rng()) + std::to_string(rng());
    auto bearer = [](const std::string& t) { return "Authorization: Bearer " + t + "\r\n"; };

    // Good requests, a sync that runs, a cancel, a user's view of another's job.
    auto t = http_post(port, "/sync/trigger", "", s.token);
    BOOST_REQUIRE(t.status == 201);
    auto job = std::to_string(t.body.at("id").get<std::int64_t>());
    BOOST_REQUIRE(wait_until(
      [&] { return http_get(port, "/sync/jobs/" + job, s.token).body.value("status", "") ==
                   "completed"; },
      60s));
    for (auto* p : {"/sync/status", "/sync/jobs", "/matches", "/stats/summary", "/workers"})
      BOOST_TEST(http_get(port, p, s.token).status == 200, p);
    BOOST_TEST(http_get(port, "/sync/jobs/" + job, s.other_token).status == 404);
    BOOST_TEST(http_post(port, "/sync/cancel/" + job, "", s.other_token).status == 404);
    BOOST_TEST(http_post(port, "/sync/cancel/" + job, "", s.token).status == 400);
    // Bad tokens of every kind, and tokens where no token belongs.
    for (auto& tok : {near_miss, forged})
      for (auto* p : {"/sync/status", "/sync/jobs", "/workers"})
        BOOST_TEST(status_of(raw_request(port, "GET", p, bearer(tok))) == 401);
    BOOST_TEST(status_of(raw_request(port, "POST", "/sync/trigger",
                                     bearer(forged) + "Content-Length: 0\r\n")) == 401);
    for (auto& tok : {s.token, forged}) {
      raw_request(port, "GET", "/sync/jobs/" + tok, bearer(s.token));
      raw_request(port, "GET", "/matches/" + tok, bearer(s.token));
      raw_request(port, "POST", "/sync/cancel/" + tok, bearer(s.token) + "Content-Length: 0\r\n");
      raw_request(port, "GET", "/sync/jobs?limit=" + tok, bearer(s.token));
      raw_request(port, "GET", "/" + tok);
      raw_request(port, "GET", "/sync/status?token=" + tok);
      raw_request(port, "GET", "/sync/status", "Authorization: Basic " + tok + "\r\n");
      raw_request(port, "GET", "/sync/status", "Authorization: Bearer " + tok + " extra\r\n");
      std::string body = R"({"job_type":")" + tok + "\"}";
      raw_request(port, "POST", "/sync/trigger",
                  bearer(s.token) + "Content-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n",
                  body);
    }
    s.serve.process->signal(SIGTERM);
    BOOST_TEST(s.serve.process->wait_exit(20s) == 0);

    auto log = s.serve.process->output();
    BOOST_TEST(log.find("listening") != std::string::npos);  // the grep is not vacuous
    for (auto& [name, secret] : std::vector<std::pair<std::string, std::string>>{
           {"valid token", s.token},
           {"other user's token", s.other_token},
           {"near-miss token", near_miss},
           {"forged token", forged},
           {"upstream api key", api_key}}) {
      auto at = log.find(secret);
      BOOST_TEST(at == std::string::npos,
                 format << " log holds the " << name << ": ..."
                        << log.substr(at == std::string::npos ? 0 : (at > 120 ? at - 120 : 0), 240));
    }
    if (format == "json") {
      std::istringstream lines(log);
      std::string line;
      int bad = 0;
      while (std::getline(lines, line))
        if (!line.empty() && json::parse(line, nullptr, false).is_discarded() && bad++ < 3)
          BOOST_TEST_MESSAGE("not a JSON log line: " << line);
      BOOST_TEST(bad == 0, bad << " lines of the json log are not JSON");
    }
  }
}

BOOST_AUTO_TEST_CASE(static_files_never_leave_their_folder) {
  auto root = test_output_dir("security") + "/static-root";
  BOOST_REQUIRE(std::system(("rm -rf '" + root + "' && mkdir -p '" + root + "/www/sub'").c_str()) == 0);
  const std::string canary = "CANARY-outside-the-static-folder-9f3b";
  std::ofstream(root + "/secret.txt") << canary << "\n";
  std::ofstream(root + "/www/index.html") << "<html>inside</html>\n";
  std::ofstream(root + "/www/sub/a.txt") << "inside-a\n";
  token_serve s("security_static", {{"MATCHSYNC_STATIC_DIR", root + "/www"}});
  const int port = s.serve.http_port;

  BOOST_TEST(raw_request(port, "GET", "/sub/a.txt").find("inside-a") != std::string::npos);
  BOOST_TEST(raw_request(port, "GET", "/").find("inside") != std::string::npos);

  auto abs_secret = root + "/secret.txt";
  std::vector<std::string> attempts{
    "/../secret.txt", "/sub/../../secret.txt", "/./../secret.txt", "//../secret.txt",
    "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt",
    "/..%2fsecret.txt", "/..%2Fsecret.txt", "/%2e%2e%2fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt", "/sub/..%2f..%2fsecret.txt", "/%252e%252e/secret.txt",
    "/..%5csecret.txt", "/..\\secret.txt", "/sub/..%00/../secret.txt",
    "/" + abs_secret, "/" + abs_secret.substr(1), abs_secret, "//" + abs_secret,
    "/%2f" + abs_secret.substr(1), "/etc/passwd", "//etc/passwd", "/%2fetc%2fpasswd",
    "/../../../../../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "http://127.0.0.1/../secret.txt", "/sub/../../../../../../../../" + abs_secret.substr(1),
  };
  for (auto& target : attempts) {
    auto answer = raw_request(port, "GET", target);
    int status = status_of(answer);
    BOOST_TEST(answer.find(canary) == std::string::npos, target << " served the outside file");
    BOOST_TEST(answer.find("root:x:0:0") == std::string::npos, target << " served /etc/passwd");
    BOOST_TEST(status != 200, target << " answered 200: " << answer.substr(0, 200));
  }
}

BOOST_AUTO_TEST_CASE(listeners_bind_to_loopback_by_default) {
  // No host configured anywhere: not in the environment the child inherits.
  ::unsetenv("MATCHSYNC_HTTP_HOST");
  ::unsetenv("MATCHSYNC_CLUSTER_HOST");
  fake_opendota fake;
  auto url = fresh_database("security_bind");
  env_map env{{"MATCHSYNC_DATABASE_URL", url},
              {"MATCHSYNC_UPSTREAM_URL", fake.url()},
              {"MATCHSYNC_HTTP_PORT", "0"},
              {"MATCHSYNC_CLUSTER_PORT", "0"},
              {"MATCHSYNC_CLUSTER_SECRET", "bind-s3cret"},
              {"MATCHSYNC_NODE_ID", "bind-node"}};
  auto serve = start_serve(env);
  BOOST_REQUIRE(serve.cluster_port > 0);

  // Every listening socket on those ports, from the kernel's tables.
  auto listeners = [](int port) {
    std::vector<std::string> out;
    for (auto* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
      std::ifstream in(table);
      std::string line;
      std::getline(in, line);
      while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string sl, local, remote, state;
        f >> sl >> local >> remote >> state;
        auto colon = local.rfind(':');
        if (state == "0A" && std::stoi(local.substr(colon + 1), nullptr, 16) == port)
          out.push_back(local.substr(0, colon));
      }
    }
    return out;
  };
  for (auto& [name, port] : std::vector<std::pair<std::string, int>>{
         {"HTTP", serve.http_port}, {"cluster", serve.cluster_port}}) {
    auto found = listeners(port);
    BOOST_TEST(!found.empty(), name << " port " << port << " not found listening");
    for (auto& addr : found)
      BOOST_TEST((addr == "0100007F" || addr == "00000000000000000000000001000000"),
                 name << " port " << port << " listens on " << addr << ", not loopback");
  }

  // And from outside loopback, when the machine has another address.
  ifaddrs* ifs = nullptr;
  std::string other;
  if (::getifaddrs(&ifs) == 0) {
    for (auto* i = ifs; i != nullptr && other.empty(); i = i->ifa_next)
      if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
        auto a = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr;
        if ((ntohl(a.s_addr) >> 24) != 127) {
          char buf[INET_ADDRSTRLEN];
          other = ::inet_ntop(AF_INET, &a, buf, sizeof buf);
        }
      }
    ::freeifaddrs(ifs);
  }
  if (other.empty()) {
    BOOST_TEST_MESSAGE("no non-loopback IPv4 address here; /proc/net/tcp was the check");
  } else {
    for (int port : {serve.http_port, serve.cluster_port}) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET, other.c_str(), &addr.sin_addr);
      bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      BOOST_TEST(!connected, "port " << port << " answers on " << other);
    }
    BOOST_TEST_MESSAGE("connects via " << other << " were refused");
  }
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
