// detail_fingerprint: two answers about one match are the same match when
// they differ only in what OpenDota computes per request (odota/core
// buildMatch.ts), and a different one as soon as anything else differs.
#define BOOST_TEST_MODULE detail_fingerprint
#include <boost/test/unit_test.hpp>

#include <string>

#include "sync/detail_fingerprint.hpp"

using matchsync::sync::detail_fingerprint;

namespace {

// A detail as OpenDota builds it, with its request-time fields filled from
// `seed` (as if asked at another moment) and one player's kills.
std::string detail(int seed, int kills = 7, const std::string& space = "") {
  auto s = std::to_string(seed);
  return "{\"match_id\":" + space + "8000000001,\"version\":21," + space +
         "\"od_data\":{\"has_api\":true,\"has_archive\":" + (seed % 2 ? "true" : "false") + "},"
         "\"radiant_team\":{\"name\":\"T\",\"rating\":" + s + "},"
         "\"dire_team\":{\"rating\":" + s + "},\"league\":{\"tier\":\"" + s + "\"},"
         "\"metadata\":null,"
         "\"players\":[" + space + "{\"account_id\":1,\"kills\":" + std::to_string(kills) + "," +
         "\"benchmarks\":{\"gold_per_min\":{\"raw\":500,\"pct\":0." + s + "}},"
         "\"personaname\":\"n" + s + "\",\"name\":null,\"last_login\":\"2026-12-0" +
         std::to_string(seed % 9 + 1) + "\",\"rank_tier\":" + s + ",\"computed_mmr\":" + s +
         ",\"is_subscriber\":" + (seed % 2 ? "true" : "false") +
         ",\"is_contributor\":false,\"cosmetics\":[{\"item_id\":" + s + "}],"
         "\"purchase_log\":[{\"time\":1,\"key\":\"tango\"}]},"
         "{\"account_id\":null,\"kills\":3,\"rank_tier\":" + s + "}]," + space +
         "\"chat\":[{\"personaname\":\"kept\",\"key\":\"gg\"}],\"replay_url\":\"http://r\"}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(detail_fingerprint_suite)

BOOST_AUTO_TEST_CASE(request_time_fields_do_not_change_it) {
  BOOST_TEST(detail(1) != detail(2));
  BOOST_TEST(detail_fingerprint(detail(1)) == detail_fingerprint(detail(2)));
  BOOST_TEST(detail_fingerprint(detail(1)) == detail_fingerprint(detail(8)));
}

BOOST_AUTO_TEST_CASE(a_changed_kill_count_changes_it) {
  BOOST_TEST(detail_fingerprint(detail(1, 7)) != detail_fingerprint(detail(1, 8)));
  BOOST_TEST(detail_fingerprint(detail(1, 7)) != detail_fingerprint(detail(2, 17)));
}

BOOST_AUTO_TEST_CASE(whitespace_outside_strings_does_not_change_it) {
  BOOST_TEST(detail_fingerprint(detail(1, 7, " \n\t")) == detail_fingerprint(detail(1, 7)));
}

BOOST_AUTO_TEST_CASE(request_time_fields_present_or_absent_are_the_same) {
  BOOST_TEST(detail_fingerprint(R"({"a":1,"od_data":{"x":[1,{"y":2}]},"b":2})") ==
             detail_fingerprint(R"({"a":1,"b":2})"));
  BOOST_TEST(detail_fingerprint(R"({"od_data":1,"a":1})") == detail_fingerprint(R"({"a":1})"));
  BOOST_TEST(detail_fingerprint(R"({"players":[{"benchmarks":{},"k":1}]})") ==
             detail_fingerprint(R"({"players":[{"k":1}]})"));
}

BOOST_AUTO_TEST_CASE(the_same_names_elsewhere_count) {
  // A chat line's personaname is what was said, not a lookup: it counts;
  // so does a top-level personaname, and a rank_tier nested below a player.
  BOOST_TEST(detail_fingerprint(R"({"chat":[{"personaname":"a"}]})") !=
             detail_fingerprint(R"({"chat":[{"personaname":"b"}]})"));
  BOOST_TEST(detail_fingerprint(R"({"personaname":"a"})") !=
             detail_fingerprint(R"({"personaname":"b"})"));
  BOOST_TEST(detail_fingerprint(R"({"players":[{"x":{"rank_tier":1}}]})") !=
             detail_fingerprint(R"({"players":[{"x":{"rank_tier":2}}]})"));
  BOOST_TEST(detail_fingerprint(R"({"teams":[{"league":1}]})") !=
             detail_fingerprint(R"({"teams":[{"league":2}]})"));
}

BOOST_AUTO_TEST_CASE(members_values_and_order_all_count) {
  BOOST_TEST(detail_fingerprint(R"({"a":1,"b":2})") != detail_fingerprint(R"({"a":1})"));
  BOOST_TEST(detail_fingerprint(R"({"a":1,"b":2})") != detail_fingerprint(R"({"b":2,"a":1})"));
  BOOST_TEST(detail_fingerprint(R"({"a":[1,2]})") != detail_fingerprint(R"({"a":[12]})"));
  BOOST_TEST(detail_fingerprint(R"({"a":"x","b":"y"})") !=
             detail_fingerprint(R"({"a":"x\",\"b\":\"y"})"));
  BOOST_TEST(detail_fingerprint(R"({"a":"\ufffd"})") != detail_fingerprint(R"({"a":"\ud83d"})"));
}

BOOST_AUTO_TEST_CASE(text_that_is_no_object_is_hashed_whole) {
  BOOST_TEST(detail_fingerprint("[1]") != detail_fingerprint("[2]"));
  BOOST_TEST(detail_fingerprint(R"({"a":)") != detail_fingerprint(R"({"b":)"));
  BOOST_TEST(detail_fingerprint("") == detail_fingerprint(""));
}

BOOST_AUTO_TEST_SUITE_END()
