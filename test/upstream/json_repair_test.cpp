// repair_unstorable_escapes: only the escapes jsonb refuses change, each to
// U+FFFD's escape, and nothing else does, whatever the text around them.
#define BOOST_TEST_MODULE json_repair
#include <boost/test/unit_test.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "upstream/json_check.hpp"
#include "upstream/json_repair.hpp"

using namespace matchsync::upstream;

namespace {
struct repaired {
  std::string text;
  std::size_t count;
};
repaired repair(std::string s) {
  auto n = repair_unstorable_escapes(s);
  return {s, n};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(json_repair)

BOOST_AUTO_TEST_CASE(a_lone_high_surrogate_becomes_the_replacement_character) {
  auto r = repair(R"({"personaname":"ab\ud83d","k":1})");
  BOOST_TEST(r.count == 1u);
  BOOST_TEST(r.text == R"({"personaname":"ab\ufffd","k":1})");
  BOOST_TEST((check_json_object(r.text) == json_verdict::object));
  BOOST_TEST(nlohmann::json::parse(r.text)["personaname"] == "ab\xef\xbf\xbd");
}

BOOST_AUTO_TEST_CASE(a_lone_low_surrogate_and_a_nul_escape_are_replaced_too) {
  auto r = repair(R"({"a":"\ude00x","b":"x\u0000y","c":"\uDBFF"})");
  BOOST_TEST(r.count == 3u);
  BOOST_TEST(r.text == R"({"a":"\ufffdx","b":"x\ufffdy","c":"\ufffd"})");
}

BOOST_AUTO_TEST_CASE(a_valid_pair_and_ordinary_escapes_stay) {
  std::string s = R"({"e":"\ud83d\ude00 \u00e9 \" \\ \/ \n \t \u0001","n":[1,2]})";
  auto r = repair(s);
  BOOST_TEST(r.count == 0u);
  BOOST_TEST(r.text == s);
}

BOOST_AUTO_TEST_CASE(an_escaped_backslash_does_not_start_an_escape) {
  // \\ud83d is a backslash and the letters ud83d; \\\ud83d is a backslash
  // and then a real (lone) escape.
  auto r = repair(R"({"a":"\\ud83d","b":"\\u0000","c":"\\\ud83d"})");
  BOOST_TEST(r.count == 1u);
  BOOST_TEST(r.text == R"({"a":"\\ud83d","b":"\\u0000","c":"\\\ufffd"})");
}

BOOST_AUTO_TEST_CASE(high_surrogates_in_a_row_keep_the_pair_that_follows) {
  // The first high has no low after it; the second has.
  auto r = repair(R"({"a":"\ud83d\ud83d\ude00","b":"\ud83d\u0041"})");
  BOOST_TEST(r.count == 2u);
  BOOST_TEST(r.text == R"({"a":"\ufffd\ud83d\ude00","b":"\ufffd\u0041"})");
}

BOOST_AUTO_TEST_CASE(member_names_are_strings_too) {
  auto r = repair(R"({"\ud83d":1})");
  BOOST_TEST(r.count == 1u);
  BOOST_TEST(r.text == R"({"\ufffd":1})");
}

BOOST_AUTO_TEST_CASE(text_outside_strings_is_never_touched) {
  // Not JSON: left exactly as it is for the checker to refuse.
  for (std::string s : {std::string(R"(\u0000)"), std::string(R"({\ud83d:1})"),
                        std::string(R"({"a":"\ud83)"), std::string(R"({"a":"\)"),
                        std::string("\"\\ud83d")}) {
    auto r = repair(s);
    BOOST_TEST(r.text.size() == s.size());
    if (s[0] != '"') {
      BOOST_TEST(r.count == 0u, s);
      BOOST_TEST(r.text == s);
    }
  }
  // A string left open at the end still gets its escape mended.
  BOOST_TEST(repair("\"\\ud83d").text == "\"\\ufffd");
}

BOOST_AUTO_TEST_CASE(a_repaired_detail_is_storable_and_repairs_once) {
  std::string s = R"({"players":[{"personaname":"\ud83d"},{"personaname":"ok\u0000"}]})";
  BOOST_TEST((check_json_object(s) != json_verdict::object));
  auto first = repair(s);
  BOOST_TEST(first.count == 2u);
  BOOST_TEST((check_json_object(first.text) == json_verdict::object));
  auto second = repair(first.text);
  BOOST_TEST(second.count == 0u);
  BOOST_TEST(second.text == first.text);
}

BOOST_AUTO_TEST_SUITE_END()
