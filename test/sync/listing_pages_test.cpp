#define BOOST_TEST_MODULE listing_pages
#include <boost/test/unit_test.hpp>

#include "sync/listing_pages.hpp"

using namespace matchsync::sync;
using nlohmann::json;

BOOST_AUTO_TEST_SUITE(listing_pages_suite)

namespace {
json listing() {
  return json::parse(R"([
    {"match_id": 7001000003, "kills": 3, "version": null, "name": "\u65e5,]"},
    {"match_id": 7001000002, "kills": 2, "version": 21},
    {"no_id": true},
    {"match_id": "7001000001"},
    {"match_id": 4294967297, "radiant_win": false}
  ])");
}

json slice(const json& rows, std::size_t from, std::size_t to) {
  json out = json::array();
  for (auto k = from; k < to && k < rows.size(); ++k)
    out.push_back(rows[k]);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_page_is_the_text_the_tree_of_its_rows_would_dump) {
  auto rows = listing();
  listing_pages pages(rows.dump(2));  // spaces and newlines as sent
  BOOST_TEST(pages.size() == 5u);
  for (std::size_t from = 0; from <= 6; ++from)
    for (std::size_t count = 0; count <= 6; ++count) {
      auto p = pages.page_at(from, count);
      auto expected = slice(rows, from, from + count);
      BOOST_TEST(p.text == expected.dump(), "from " << from << " count " << count);
      BOOST_TEST(p.rows == expected.size());
      BOOST_TEST(p.ids == listed_ids(expected));
    }
}

BOOST_AUTO_TEST_CASE(only_rows_with_an_integer_match_id_have_an_id) {
  auto ids = listed_ids(listing());
  BOOST_TEST((ids == std::vector<std::int64_t>{7001000003, 7001000002, 4294967297}));
  BOOST_TEST(listing_pages(listing().dump()).page_at(1, 3).ids ==
             std::vector<std::int64_t>{7001000002});
}

BOOST_AUTO_TEST_CASE(an_empty_listing_or_one_that_is_not_an_array_lists_nothing) {
  for (std::string text : {"[]", "{}", R"({"match_id": 1, "rows": [{"match_id": 2}]})", "null",
                           R"([{"match_id": 1}, {"match_id": )", ""}) {
    listing_pages pages(text);
    BOOST_TEST(pages.size() == 0u, text);
    auto p = pages.page_at(0, 100);
    BOOST_TEST(p.text == "[]");
    BOOST_TEST(p.rows == 0u);
    BOOST_TEST(p.ids.empty());
  }
  BOOST_TEST(listed_ids(json::object()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
