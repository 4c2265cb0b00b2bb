// Hostile input at the real server, from a fixed seed: random bodies, wrong
// content types, odd and very long paths, huge headers, invalid UTF-8. Every
// answer must be a well-formed HTTP answer, never a server error, with a
// JSON body for every error; the server must serve normally afterwards.
#define BOOST_TEST_MODULE http_fuzz
#include <boost/test/unit_test.hpp>

#include <pthread.h>

#include <random>

#include "test/http/api_harness.hpp"
#include "test/support/process.hpp"
#include "test/support/sanitizer.hpp"

using namespace matchsync;
using namespace matchsync::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr std::uint64_t seed = 20261128;
constexpr int request_count = 3000;

class request_maker {
public:
  request_maker(std::uint64_t s, std::string token) : rng_(s), token_(std::move(token)) {}

  struct made {
    std::string method;
    std::string bytes;
    std::string summary;
  };

  made next() {
    made m;
    m.method = pick({"GET", "GET", "GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH",
                     "OPTIONS", "HEAD"});
    // Most POSTs go to the trigger, whose body parsing is the richest.
    auto path = m.method == "POST" && below(10) < 7 ? maybe_query("/sync/trigger") : make_path();
    std::string head = m.method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    switch (below(10)) {
      case 0: case 1: break;  // no token
      case 2: head += "Authorization: Bearer " + random_bytes(below(80), true) + "\r\n"; break;
      case 3: head += "Authorization: " + random_bytes(below(40), true) + "\r\n"; break;
      default: head += "Authorization: Bearer " + token_ + "\r\n";
    }
    if (below(3) == 0)
      head += "Content-Type: " + pick({"application/json", "text/plain", "application/xml",
                                       "application/x-www-form-urlencoded",
                                       "multipart/form-data; boundary=zz", "multipart/form-data",
                                       "application/json; charset=latin1", "\x01\x02", ""}) +
              "\r\n";
    if (below(100) == 0)
      head += "X-Huge: " + std::string(9000 + below(4000), 'h') + "\r\n";
    if (below(100) == 0)
      for (int i = 0; i < 150; ++i)
        head += "X-Many-" + std::to_string(i) + ": " + random_bytes(20, true) + "\r\n";
    if (below(50) == 0)
      head += "Range: bytes=" + random_bytes(8, true) + "\r\n";
    auto body = make_body();
    bool chunked = !body.empty() && below(10) == 0;
    if (chunked) {
      head += "Transfer-Encoding: chunked\r\n\r\n";
      std::size_t pos = 0;
      while (pos < body.size()) {
        auto n = std::min<std::size_t>(body.size() - pos, 1 + below(4000));
        char size[32];
        std::snprintf(size, sizeof(size), "%zx\r\n", n);
        head += size + body.substr(pos, n) + "\r\n";
        pos += n;
      }
      head += "0\r\n\r\n";
      m.bytes = head;
    } else {
      if (!body.empty() || m.method == "POST")
        head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
      m.bytes = head + "\r\n" + body;
    }
    m.summary = m.method + " " + path.substr(0, 120) + (path.size() > 120 ? "..." : "") +
                " body " + std::to_string(body.size()) + " bytes" + (chunked ? " chunked" : "");
    return m;
  }

private:
  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }

  std::string pick(std::initializer_list<const char*> options) {
    auto it = options.begin();
    std::advance(it, below(options.size()));
    return *it;
  }

  std::string random_bytes(std::size_t n, bool printable) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
      s += printable ? static_cast<char>(33 + below(94)) : static_cast<char>(below(256));
    return s;
  }

  std::string percent_encoded(std::size_t n) {
    static const char* hex = "0123456789ABCDEF";
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      auto b = below(256);
      s += '%';
      s += hex[b >> 4];
      s += hex[b & 15];
    }
    return s;
  }

  std::string number_like() {
    return pick({"0", "1", "10", "-1", "1.5", "abc", "1e3", "99999999999999999999", "", "%00",
                 "%ff%fe", "0x10", " 5", "500", "501", "100", "101", "+3"});
  }

  std::string make_path() {
    std::string p = pick({"/sync/trigger", "/sync/cancel/", "/sync/status", "/sync/jobs",
                          "/sync/jobs/", "/matches", "/matches/", "/stats/summary", "/workers",
                          "/health", "/ready", "/metrics", "/openapi.json", "/", "/index.html",
                          "/app.js", "/nope", "/sync", "/static"});
    if (p.back() == '/' && p.size() > 1)
      p += number_like();
    switch (below(24)) {
      case 0: p += "/.."; break;
      case 1: p = "/%2e%2e" + p; break;
      case 2: p += "%00"; break;
      case 3: p += "/" + percent_encoded(1 + below(30)); break;
      case 4: p += "/" + std::string(100 + below(9000), 'a'); break;
      case 5: p = "/../../.." + p; break;
      case 6: p += "//"; break;
      case 7: p += random_bytes(1 + below(5), true); break;
      default: break;
    }
    p = maybe_query(p);
    // Request-line breakers: control bytes and blanks.
    if (below(60) == 0)
      p.insert(below(p.size()), std::string(1, static_cast<char>(below(32))));
    return p;
  }

  std::string maybe_query(std::string p) {
    if (below(3) == 0) {
      p += "?limit=" + number_like();
      if (below(2) == 0)
        p += "&offset=" + number_like();
      if (below(4) == 0)
        p += "&" + percent_encoded(below(10)) + "=" + percent_encoded(below(10));
    }
    return p;
  }

  std::string make_body() {
    switch (below(12)) {
      case 0: case 1: return "";
      case 2: return random_bytes(below(2000), false);
      case 3: return random_bytes(below(200), true);
      case 4: return "{\"job_type\": \"" + random_bytes(1 + below(20), false) + "\"}";
      case 5: return "{\"job_type\": \"full\xc3\x28sync\"}";  // invalid UTF-8
      case 6: return pick({"{}", "null", "[]", "\"x\"", "1", "true", "{\"job_type\": null}",
                           "{\"job_type\": \"full_sync\"}", "{\"job_type\": 7}"});
      case 7: return std::string(1 + below(20000), '[');
      case 8: return std::string(64 * 1024 + below(10000), ' ');
      case 9: return "--zz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" +
                     random_bytes(below(100), false) + "\r\n--zz--\r\n";
      case 10: return "job_type=full_sync&" + percent_encoded(below(20));
      default: return "{\"a\": \"" + std::string(below(5000), 'x') + "\\u" +
                      random_bytes(4, true) + "\"}";
    }
  }

  std::mt19937_64 rng_;
  std::string token_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(fuzz)

BOOST_AUTO_TEST_CASE(random_requests_never_get_a_server_error_and_the_server_serves_on) {
  api_harness::options o;
  o.database = "http_fuzz";
  o.upstream_latency_ms = 0;
  api_harness node(o);
  auto u = node.add_user(5001);  // one match upstream: its syncs end fast
  request_maker maker(seed, u.token);
  std::vector<std::string> failures;
  std::map<int, int> by_status;
  std::map<int, double> ms_by_status;
  for (int i = 0; i < request_count; ++i) {
    auto m = maker.next();
    auto started = std::chrono::steady_clock::now();
    auto r = raw_exchange(node.port(), m.bytes, 5s);
    ++by_status[r.status];
    ms_by_status[r.status] += std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - started).count();
    std::string why;
    if (r.status == 0)
      why = "no answer";
    else if (r.status >= 500)
      why = "server error " + std::to_string(r.status) + " " + r.body.substr(0, 200);
    else if (r.status < 200)
      why = "status " + std::to_string(r.status);
    else if (r.status >= 400 && m.method != "HEAD" &&
             (!r.is_json() || !r.json().contains("detail") || !r.json()["detail"].is_string()))
      why = "error without a JSON detail: " + std::to_string(r.status) + " " +
            r.body.substr(0, 200);
    if (!why.empty())
      failures.push_back("#" + std::to_string(i) + " " + m.summary + ": " + why);
  }
  std::string histogram;
  for (auto& [status, n] : by_status)
    histogram += std::to_string(status) + ":" + std::to_string(n) + " (" +
                 std::to_string(static_cast<int>(ms_by_status[status] / n)) + " ms) ";
  BOOST_TEST_MESSAGE("answers by status: " << histogram);
  for (std::size_t i = 0; i < failures.size() && i < 15; ++i)
    BOOST_TEST_MESSAGE(failures[i]);
  BOOST_TEST(failures.empty(), failures.size() << " bad answers of " << request_count);
  // The fuzz reached the handlers, not just the parser.
  BOOST_TEST(by_status[422] > 0);
  BOOST_TEST(by_status[401] > 0);
  BOOST_TEST(by_status[413] > 0);
  BOOST_TEST(by_status[200] > 0);
  BOOST_TEST(by_status[201] > 0);
  BOOST_TEST(by_status[409] > 0);

  client c(node.port(), u.token);
  BOOST_TEST(c.get("/health").status == 200);
  BOOST_TEST(c.get("/sync/status").status == 200);
  BOOST_TEST(c.get("/sync/jobs?limit=1").status == 200);
}

// Routes are matched with std::regex, whose libstdc++ executor recurses once
// per character it matches (GCC bug 86164): under ASan a long path from the
// case above overflowed a request thread's default 8 MiB stack. Threads made
// with a 512 KiB stack (as under a smaller `ulimit -s`) see the same with a
// plain build, so no regex may run over a long segment; and each such path is
// still answered as its route answers a bad id. Only the plain build shrinks
// the stacks: under ASan the default ones overflowed (above), and under TSan CAF's
// actor system could not start on 512 KiB stacks (its constructor threw).
BOOST_AUTO_TEST_CASE(paths_as_long_as_a_request_line_allows_are_answered_on_small_stacks) {
  pthread_attr_t small, saved;
  BOOST_REQUIRE_EQUAL(pthread_getattr_default_np(&saved), 0);
  struct restore {
    pthread_attr_t* attr;
    ~restore() { pthread_setattr_default_np(attr); }
  } restored{&saved};
  if (sanitizer_slowdown == 1) {
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, 512 * 1024);
    BOOST_REQUIRE_EQUAL(pthread_setattr_default_np(&small), 0);
  }
  {
    api_harness::options o;
    o.database = "http_fuzz_small_stack";
    o.upstream_latency_ms = 0;
    api_harness node(o);
    auto u = node.add_user(5002);
    std::string digits(8000, '7'), letters(4000, 'a');
    struct expected {
      std::string method, path;
      int status;
    };
    const std::vector<expected> cases{
      {"GET", "/" + letters, 404},
      {"POST", "/" + letters, 404},
      {"GET", "/sync/jobs/" + digits, 422},
      {"POST", "/sync/jobs/" + digits, 405},
      {"POST", "/sync/cancel/" + letters, 422},
      {"GET", "/sync/cancel/" + letters, 405},
      {"GET", "/matches/" + digits, 422},
      {"GET", "/sync/jobs/" + letters + "/" + letters, 404},
    };
    for (auto& e : cases) {
      auto r = raw_exchange(node.port(),
                            e.method + " " + e.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            "Authorization: Bearer " + u.token + "\r\n"
                            "Content-Type: application/json\r\nContent-Length: 0\r\n"
                            "Connection: close\r\n\r\n",
                            5s);
      BOOST_TEST_INFO(e.method << " " << e.path.substr(0, 20) << "... (" << e.path.size()
                               << " bytes)");
      BOOST_TEST(r.status == e.status);
      BOOST_TEST((r.is_json() && r.json().contains("detail")));
    }
    client c(node.port(), u.token);
    BOOST_TEST(c.get("/health").status == 200);
    BOOST_TEST(c.get("/sync/jobs?limit=1").status == 200);
  }
}

BOOST_AUTO_TEST_SUITE_END()
