// MATCHSYNC_AUTH=none's guards against other sites, alone.
#define BOOST_TEST_MODULE local_guard
#include <boost/test/unit_test.hpp>

#include "http/local_guard.hpp"

using namespace matchsync::http;

BOOST_AUTO_TEST_CASE(only_application_json_is_json) {
  BOOST_TEST(is_json_content_type("application/json"));
  BOOST_TEST(is_json_content_type("Application/JSON; charset=utf-8"));
  for (auto ct : {"", "text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", "application/jsonx"})
    BOOST_TEST(!is_json_content_type(ct), ct);
}

BOOST_AUTO_TEST_CASE(loopback_and_own_hosts_pass_and_others_do_not) {
  std::vector<std::string> own{"192.168.1.5"};
  for (auto h : {"localhost", "localhost:8080", "127.0.0.1:8080", "127.1.2.3", "[::1]:8080",
                 "LOCALHOST", "192.168.1.5:8080"})
    BOOST_TEST(is_own_host(h, own), h);
  for (auto h : {"evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                 "localhost.evil.example", "192.168.1.6", "127.0.0.1:80x", "[::1", "0.0.0.0"})
    BOOST_TEST(!is_own_host(h, own), h);
  BOOST_TEST(!is_own_host("0.0.0.0", {"0.0.0.0"}));
}

BOOST_AUTO_TEST_CASE(an_origin_passes_only_with_an_own_host) {
  std::vector<std::string> own;
  BOOST_TEST(is_own_origin("http://127.0.0.1:8080", own));
  BOOST_TEST(is_own_origin("http://localhost:8080", own));
  for (auto o : {"null", "http://evil.example", "https://evil.example:8080",
                 "file://", "http://127.0.0.1:8080/path", "127.0.0.1"})
    BOOST_TEST(!is_own_origin(o, own), o);
}
