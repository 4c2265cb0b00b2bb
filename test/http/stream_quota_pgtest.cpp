// SPEC §4's event stream cap per user, against the real server: the fifth
// stream of one user is 429 with a JSON detail, and another user still
// gets one.
#define BOOST_TEST_MODULE stream_quota_server
#include <boost/test/unit_test.hpp>

#include "test/http/api_harness.hpp"
#include "test/support/process.hpp"

using namespace matchsync::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

BOOST_AUTO_TEST_CASE(the_fifth_stream_of_a_user_is_429_and_another_user_still_gets_one) {
  api_harness::options o;
  o.database = "http_stream_quota";
  o.sse_max_streams = 16;
  o.heartbeat = 10s;  // a closed tab must be noticed long before the heartbeat
  api_harness node(o);
  auto tabs = node.add_user(1301);
  auto other = node.add_user(1302);
  std::vector<std::unique_ptr<event_client>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<event_client>(node.port(), tabs.token));
    BOOST_REQUIRE(open.back()->wait_for_text(": keepalive", 5s));
  }
  event_client fifth(node.port(), tabs.token, false);
  BOOST_REQUIRE(wait_until([&] { return fifth.ended(); }, 5s));
  BOOST_TEST(fifth.status() == 429);
  auto detail = json::parse(fifth.text(), nullptr, false);
  BOOST_TEST(detail.value("detail", "").find("at most 4") != std::string::npos, fifth.text());
  event_client theirs(node.port(), other.token);
  BOOST_TEST(theirs.wait_for_text(": keepalive", 5s));
  BOOST_TEST(theirs.status() == 200);
  // A tab closed frees the user's place.
  open.front()->close();
  BOOST_REQUIRE(wait_until([&] { return node.node().server().open_streams() == 4; }, 5s));
  event_client again(node.port(), tabs.token);
  BOOST_TEST(again.wait_for_text(": keepalive", 5s));
}
