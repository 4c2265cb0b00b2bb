// SPEC §4's browser hardening headers, exact values, on the real server:
// every answer (JSON, errors, the front door's own refusals) and the
// dashboard's Content-Security-Policy.
#define BOOST_TEST_MODULE hardening_headers
#include <boost/test/unit_test.hpp>

#include "test/http/api_harness.hpp"

using namespace matchsync::test;

BOOST_AUTO_TEST_CASE(every_answer_is_hardened_and_the_dashboard_has_its_csp) {
  api_harness::options o;
  o.database = "http_hardening";
  api_harness node(o);
  auto u = node.add_user(1601);
  const std::string csp =
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";
  std::vector<reply> answers{
    client(node.port(), u.token).get("/sync/status"),
    client(node.port()).get("/sync/status"),         // 401
    client(node.port()).get("/nowhere"),             // 404
    raw_exchange(node.port(), "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"),  // 400
    client(node.port()).get("/"),
    client(node.port()).get("/app.js"),
  };
  for (auto& r : answers) {
    BOOST_TEST(r.header("X-Content-Type-Options") == "nosniff", r.status);
    BOOST_TEST(r.header("Referrer-Policy") == "no-referrer", r.status);
  }
  BOOST_TEST(answers[4].status == 200);
  BOOST_TEST(answers[4].header("Content-Security-Policy") == csp);
  BOOST_TEST(answers[5].header("Content-Security-Policy") == csp);
  BOOST_TEST(answers[0].header("Content-Security-Policy") == "");
}
