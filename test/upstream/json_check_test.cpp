// check_json_object: a match detail is checked without a parse tree, so the
// checker must agree with a real parser on what is one JSON object, and
// refuse what jsonb would refuse.
#define BOOST_TEST_MODULE json_check
#include <boost/test/unit_test.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "upstream/json_check.hpp"

using namespace matchsync::upstream;

namespace {
json_verdict check(const std::string& s) { return check_json_object(s); }
}  // namespace

BOOST_AUTO_TEST_SUITE(json_check)

BOOST_AUTO_TEST_CASE(objects_of_every_kind_of_value_pass) {
  for (std::string s : {std::string("{}"), std::string(" {\"a\": 1} \n"),
                        std::string(R"({"a":[1,-2.5e+3,0,0.25E-2,true,false,null,"x",{},[]]})"),
                        std::string(R"({"nested":{"deeper":[[{"k":"v"}]]}})"),
                        std::string(R"({"esc":"\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"})"),
                        std::string("{\"utf8\":\"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"),
                        std::string(R"({"dup":1,"dup":2})")}) {
    BOOST_TEST((check(s) == json_verdict::object), s);
    BOOST_TEST(nlohmann::json::accept(s), s);  // the oracle agrees
  }
}

BOOST_AUTO_TEST_CASE(other_top_level_values_are_not_objects) {
  for (std::string s : {"[]", "[{}]", "1", "-0.5", "\"text\"", "true", "null"})
    BOOST_TEST((check(s) == json_verdict::not_object), s);
}

BOOST_AUTO_TEST_CASE(anything_a_parser_refuses_is_malformed) {
  for (std::string s :
       {std::string(""), std::string("   "), std::string("{"), std::string("{\"a\":1"),
        std::string("{\"a\" 1}"), std::string("{\"a\":}"), std::string("{,}"),
        std::string("{\"a\":1,}"), std::string("[1,]"), std::string("{a:1}"),
        std::string("{'a':1}"), std::string("{\"a\":01}"), std::string("{\"a\":1.}"),
        std::string("{\"a\":.5}"), std::string("{\"a\":1e}"), std::string("{\"a\":-}"),
        std::string("{\"a\":+1}"), std::string("{\"a\":tru}"), std::string("{\"a\":nul}"),
        std::string("{\"a\":NaN}"), std::string("{} {}"), std::string("{}x"),
        std::string("{\"a\":\"unterminated}"), std::string("{\"a\":\"tab\there\"}"),
        std::string("{\"a\":\"\\x\"}"), std::string("{\"a\":\"\\u12\"}"),
        std::string("{\"a\":\"\\ud83d\"}"), std::string("{\"a\":\"\\ude00\"}"),
        std::string("{\"a\":\"\\ud83d\\u0041\"}"), std::string("{\"a\":\"\xff\"}"),
        std::string("{\"a\":\"\xc0\xaf\"}"), std::string("{\"a\":\"\xed\xa0\x80\"}"),
        std::string("{\"a\":\"\xf4\x90\x80\x80\"}"), std::string("{\"a\":\"\xe2\x82\"}"),
        std::string("\xef\xbb\xbf{}"), std::string("{\"a\":[1 2]}"), std::string("{\"a\":[}"),
        std::string("{\"a\":{]}")}) {
    BOOST_TEST((check(s) == json_verdict::malformed), s);
  }
}

// jsonb refuses U+0000, and its parser recurses: both would fail a whole
// batch's commit, so they are caught here and the detail is retried, then
// recorded as failed.
BOOST_AUTO_TEST_CASE(what_jsonb_cannot_store_is_unstorable) {
  BOOST_TEST((check(R"({"a":"nul \u0000 inside"})") == json_verdict::unstorable));
  std::string deep = "{\"a\":" + std::string(max_json_depth, '[') +
                     std::string(max_json_depth, ']') + "}";
  BOOST_TEST((check(deep) == json_verdict::unstorable));
  std::string fits = "{\"a\":" + std::string(max_json_depth - 1, '[') +
                     std::string(max_json_depth - 1, ']') + "}";
  BOOST_TEST((check(fits) == json_verdict::object));
}

// jsonb keeps numbers in PostgreSQL's numeric. Each value below was put
// through '{"a": N}'::jsonb on PostgreSQL 15: the first list was stored,
// the second refused with "value overflows numeric format".
BOOST_AUTO_TEST_CASE(numbers_past_numerics_range_are_unstorable) {
  for (const char* n : {"2e2222", "1e131071", "1e-16383", "0e999999999", "123456789e-16380",
                        "-1.5e131071", "0.00012e5"})
    BOOST_TEST((check(std::string("{\"a\":") + n + "}") == json_verdict::object), n);
  for (const char* n : {"1e131072", "1e200000", "1e-16384", "1e-20000", "1e2147483647",
                        "0.000e-16384", "-10e131071"})
    BOOST_TEST((check(std::string("{\"a\":") + n + "}") == json_verdict::unstorable), n);
}

BOOST_AUTO_TEST_SUITE_END()
