// make_client: the config picks the demo or HTTP upstream, and a bad URL
// stops the start with one clear line.
#define BOOST_TEST_MODULE make_client
#include <boost/test/unit_test.hpp>

#include <atomic>

#include "config/config.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/demo_client.hpp"
#include "upstream/http_client.hpp"
#include "upstream/make_client.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync::upstream;

namespace {

struct counting_budget final : rate_budget {
  bool acquire(cancel_token& token) override {
    ++granted;
    return !token.cancelled();
  }
  std::atomic<int> granted{0};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(make_client_suite)

BOOST_AUTO_TEST_CASE(demo_selects_the_built_in_upstream) {
  counting_budget budget;
  matchsync::config cfg;
  cfg.upstream_url = "demo";
  auto c = make_client(cfg, budget);
  BOOST_TEST(dynamic_cast<demo_client*>(c.get()) != nullptr);
}

BOOST_AUTO_TEST_CASE(a_url_selects_http) {
  counting_budget budget;
  matchsync::config cfg;
  BOOST_TEST(cfg.upstream_url == "https://api.opendota.com");
  auto c = make_client(cfg, budget);
  BOOST_TEST(dynamic_cast<http_client*>(c.get()) != nullptr);
}

BOOST_AUTO_TEST_CASE(a_bad_url_is_refused_with_one_clear_line) {
  counting_budget budget;
  matchsync::config cfg;
  cfg.upstream_url = "ftp://example.com";
  try {
    make_client(cfg, budget);
    BOOST_FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("MATCHSYNC_UPSTREAM_URL") != std::string::npos);
    BOOST_TEST(what.find("http or https") != std::string::npos);
    BOOST_TEST(what.find('\n') == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
