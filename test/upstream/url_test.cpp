// Upstream base URLs: what MATCHSYNC_UPSTREAM_URL may hold.
#define BOOST_TEST_MODULE url
#include <boost/test/unit_test.hpp>

#include "upstream/url.hpp"

using namespace matchsync::upstream;

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(the_default_opendota_url_parses_with_port_443) {
  auto u = parse_upstream_url("https://api.opendota.com");
  BOOST_TEST_REQUIRE(u.has_value());
  BOOST_TEST(u->scheme == "https");
  BOOST_TEST(u->host == "api.opendota.com");
  BOOST_TEST(u->port == 443);
  BOOST_TEST(u->base_path == "");
  BOOST_TEST(u->origin() == "https://api.opendota.com:443");
}

BOOST_AUTO_TEST_CASE(explicit_port_and_path_prefix_are_kept) {
  auto u = parse_upstream_url("HTTP://127.0.0.1:8080/proxy/opendota/");
  BOOST_TEST_REQUIRE(u.has_value());
  BOOST_TEST(u->scheme == "http");
  BOOST_TEST(u->port == 8080);
  BOOST_TEST(u->base_path == "/proxy/opendota");
}

BOOST_AUTO_TEST_CASE(ipv6_hosts_go_in_brackets) {
  auto u = parse_upstream_url("http://[::1]:9000");
  BOOST_TEST_REQUIRE(u.has_value());
  BOOST_TEST(u->host == "::1");
  BOOST_TEST(u->origin() == "http://[::1]:9000");
}

BOOST_AUTO_TEST_CASE(bad_urls_are_refused_with_a_reason) {
  for (const char* bad :
       {"", "api.opendota.com", "ftp://host", "http://", "http://:80",
        "http://host:", "http://host:0", "http://host:65536", "http://host:80x",
        "http://user@host", "http://host/?q=1", "http://ho st", "http://[::1",
        "demo2"}) {
    std::string why;
    BOOST_TEST(!parse_upstream_url(bad, &why).has_value(), bad);
    BOOST_TEST(!why.empty(), bad);
    BOOST_TEST(!valid_upstream_url(bad), bad);
  }
}

BOOST_AUTO_TEST_CASE(demo_is_a_valid_setting_but_not_a_url) {
  BOOST_TEST(valid_upstream_url("demo"));
  BOOST_TEST(!parse_upstream_url("demo").has_value());
  BOOST_TEST(valid_upstream_url("http://localhost:1234"));
}

BOOST_AUTO_TEST_SUITE_END()
