// classify_response: what each upstream answer means (SPEC §2).
#define BOOST_TEST_MODULE classify
#include <boost/test/unit_test.hpp>

#include "upstream/classify.hpp"

using namespace matchsync::upstream;

namespace {
const std::string list_body =
  R"([{"match_id": 3, "hero_id": 1, "extra": "kept"}, {"match_id": 2}])";
const std::string detail_body = R"({"match_id": 3, "players": []})";

answer list(int status, const std::string& body, const std::string& ra = "") {
  return classify_response(status, body, ra, expected_shape::match_list);
}
answer detail(int status, const std::string& body,
              const std::string& ra = "") {
  return classify_response(status, body, ra, expected_shape::match_detail);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(classify)

BOOST_AUTO_TEST_CASE(a_list_array_is_ok_and_keeps_unknown_fields) {
  auto a = list(200, list_body);
  BOOST_TEST((a.kind == answer_kind::ok));
  BOOST_TEST(a.data.size() == 2u);
  BOOST_TEST(a.data[0]["extra"] == "kept");
  BOOST_TEST(a.message.empty());
}

BOOST_AUTO_TEST_CASE(an_empty_list_is_ok) {
  auto a = list(200, "[]");
  BOOST_TEST((a.kind == answer_kind::ok));
  BOOST_TEST(a.data.empty());
}

BOOST_AUTO_TEST_CASE(a_detail_object_is_ok_and_kept_as_sent) {
  auto a = detail(200, detail_body);
  BOOST_TEST((a.kind == answer_kind::ok));
  BOOST_TEST(a.text == detail_body);
  auto spaced = detail(200, " \r\n\t" + detail_body + "\n");
  BOOST_TEST((spaced.kind == answer_kind::ok));
}

BOOST_AUTO_TEST_CASE(not_found_is_final) {
  auto a = detail(404, R"({"error":"Not Found"})");
  BOOST_TEST((a.kind == answer_kind::not_found));
  BOOST_TEST(a.message.find("404") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_429_with_retry_after_is_rate_limited_for_that_long) {
  auto a = list(429, R"({"error":"rate limit exceeded"})", "3");
  BOOST_TEST((a.kind == answer_kind::rate_limited));
  BOOST_TEST_REQUIRE(a.retry_after.has_value());
  BOOST_TEST(a.retry_after->count() == 3);
}

BOOST_AUTO_TEST_CASE(a_429_without_or_with_a_bad_retry_after_backs_off) {
  BOOST_TEST(!list(429, "{}", "").retry_after.has_value());
  BOOST_TEST(!list(429, "{}", "soon").retry_after.has_value());
  BOOST_TEST((list(429, "{}", "soon").kind == answer_kind::rate_limited));
}

BOOST_AUTO_TEST_CASE(the_daily_limit_body_stops_with_its_message) {
  auto a = detail(429, R"({"error":"daily api limit exceeded"})", "10");
  BOOST_TEST((a.kind == answer_kind::daily_limit));
  BOOST_TEST(a.message.find("daily api limit exceeded") != std::string::npos);
  auto shouting = detail(429, R"({"error":"DAILY API LIMIT EXCEEDED"})");
  BOOST_TEST((shouting.kind == answer_kind::daily_limit));
  // Only OpenDota's JSON body counts: a 429 that is not JSON (a proxy's
  // page) waits for the next clock minute (SPEC §2), whatever it says.
  auto plain = detail(429, "Daily request limit reached");
  BOOST_TEST((plain.kind == answer_kind::rate_limited));
}

BOOST_AUTO_TEST_CASE(daily_or_limit_alone_is_not_the_daily_limit) {
  BOOST_TEST(!is_daily_limit_text("rate limit exceeded"));
  BOOST_TEST(!is_daily_limit_text("daily maintenance"));
  BOOST_TEST(is_daily_limit_text("Limit: daily"));
}

BOOST_AUTO_TEST_CASE(server_errors_and_408_are_retryable) {
  for (int status : {500, 502, 503, 504, 599, 408}) {
    auto a = list(status, "<html>oops</html>");
    BOOST_TEST((a.kind == answer_kind::retryable), status);
    BOOST_TEST(a.message.find(std::to_string(status)) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(other_statuses_fail_without_retry) {
  for (int status : {400, 401, 403, 301, 204, 418}) {
    auto a = list(status, R"({"error":"bad key"})");
    BOOST_TEST((a.kind == answer_kind::failed), status);
  }
  BOOST_TEST(list(401, R"({"error":"bad key"})").message == "HTTP 401: bad key");
}

BOOST_AUTO_TEST_CASE(malformed_or_truncated_json_is_retryable) {
  for (const char* body : {"", "[{\"match_id\": 1", "{\"match_id\":", "<html>",
                           "[1,2,,]"}) {
    auto a = list(200, body);
    BOOST_TEST((a.kind == answer_kind::retryable), body);
    BOOST_TEST(a.message.find("malformed JSON") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_list_that_is_not_an_array_is_retryable) {
  auto a = list(200, R"({"error":"something"})");
  BOOST_TEST((a.kind == answer_kind::retryable));
  BOOST_TEST(a.message == "match list is not a JSON array");
}

BOOST_AUTO_TEST_CASE(list_items_need_to_be_objects_with_an_integer_match_id) {
  BOOST_TEST((list(200, "[1, 2]").kind == answer_kind::retryable));
  BOOST_TEST((list(200, R"([{"hero_id": 1}])").kind == answer_kind::retryable));
  BOOST_TEST(
    (list(200, R"([{"match_id": "12"}])").kind == answer_kind::retryable));
}

// A whole history is checked without a tree (issue 16) and must say what
// the tree's check says, on every kind of body.
BOOST_AUTO_TEST_CASE(a_list_checked_as_text_gets_the_verdict_of_the_tree_and_keeps_its_text) {
  for (std::string body :
       {list_body, std::string("[]"), std::string(" [ {\"match_id\": 7} ]\n"),
        std::string(R"([{"match_id": 18446744073709551615, "x": {"match_id": "no"}}])"),
        std::string(R"([{"x": {"match_id": 1}}])"), std::string(R"([{"match_id": [1]}])"),
        std::string(R"([{"match_id": 1}, {"hero_id": 2}])"),
        std::string(R"([{"match_id": {"a": 1}}])"), std::string(R"([{"match_id": 1.5}])"),
        std::string(R"([{"match_id": null}])"), std::string(R"([{"match_id": 1}, 2])"),
        std::string(R"([{"match_id": 1}, [3]])"), std::string(R"({"error":"something"})"),
        std::string("17"), std::string("\"text\""), std::string(""),
        std::string("[{\"match_id\": 1"), std::string("[1,2,,]"), std::string("[] []"),
        std::string("<html>")}) {
    auto tree = list(200, body);
    auto text = classify_response(200, body, "", expected_shape::match_list_text);
    BOOST_TEST((text.kind == tree.kind), body);
    BOOST_TEST(text.message == tree.message, body);
    BOOST_TEST(text.data.is_null(), body);
    if (tree.kind == answer_kind::ok)
      BOOST_TEST(text.text == body);
  }
}

BOOST_AUTO_TEST_CASE(a_detail_that_is_not_an_object_is_retryable) {
  for (const char* body : {"[]", "null", "42", "\"text\"", "", "  "}) {
    auto a = detail(200, body);
    BOOST_TEST((a.kind == answer_kind::retryable), body);
    BOOST_TEST(a.text.empty());
  }
}

// A detail is checked without being parsed into a tree: anything that is
// not one whole, well-formed object must still be caught.
BOOST_AUTO_TEST_CASE(a_malformed_or_truncated_detail_is_retryable) {
  for (std::string body : {std::string(R"({"match_id": 3, "players": [)"),
                           std::string(R"({"match_id": 3} trailing)"),
                           std::string(R"({"match_id": 3}{"match_id": 4})"),
                           std::string(R"({"match_id": 03})"),
                           std::string(R"({'match_id': 3})"),
                           std::string("{\"name\": \"bad \xff byte\"}")}) {
    auto a = detail(200, body);
    BOOST_TEST((a.kind == answer_kind::retryable), body);
    BOOST_TEST(a.message.find("malformed JSON") != std::string::npos, a.message);
  }
}

// jsonb cannot hold U+0000 nor a lone surrogate (Node writes a Steam name
// cut inside an emoji so): stored as is, such a detail would fail its whole
// batch's commit, and asked again it comes back the same. Those escapes
// become U+FFFD; nothing else of the text changes (SPEC §2).
BOOST_AUTO_TEST_CASE(a_detail_with_escapes_jsonb_refuses_is_repaired_not_retried) {
  auto a = detail(200, R"({"match_id": 3, "name": "a\u0000b", "p": "\ud83d", "ok": "\ud83d\ude00"})");
  BOOST_TEST((a.kind == answer_kind::ok), a.message);
  BOOST_TEST(a.repaired_escapes == 2u);
  BOOST_TEST(a.text == R"({"match_id": 3, "name": "a\ufffdb", "p": "\ufffd", "ok": "\ud83d\ude00"})");
  auto clean = detail(200, R"({"match_id": 3, "p": "\\ud83d"})");
  BOOST_TEST((clean.kind == answer_kind::ok));
  BOOST_TEST(clean.repaired_escapes == 0u);
  BOOST_TEST(clean.text == R"({"match_id": 3, "p": "\\ud83d"})");
}

// Repairs mend escapes only: a detail jsonb cannot hold for another reason
// (its parser recurses) is retried like a malformed one, and a malformed
// one with a lone surrogate in it stays malformed.
BOOST_AUTO_TEST_CASE(a_detail_postgresql_cannot_store_otherwise_is_retryable) {
  std::string deep = "{\"a\":" + std::string(300, '[') + std::string(300, ']') + "}";
  auto a = detail(200, deep);
  BOOST_TEST((a.kind == answer_kind::retryable));
  BOOST_TEST(a.message.find("cannot be stored") != std::string::npos, a.message);
  BOOST_TEST(a.text.empty());
  auto b = detail(200, R"({"p": "\ud83d", "players": [)");
  BOOST_TEST((b.kind == answer_kind::retryable));
  BOOST_TEST(b.message.find("malformed JSON") != std::string::npos, b.message);
}

BOOST_AUTO_TEST_CASE(messages_are_one_short_printable_line) {
  std::string body(5000, 'x');
  body[10] = '\n';
  auto a = list(503, body);
  BOOST_TEST(a.message.find('\n') == std::string::npos);
  BOOST_TEST(a.message.size() < 260u);
}

BOOST_AUTO_TEST_CASE(a_missing_answer_is_retryable_with_its_reason) {
  auto a = classify_transport_error("Failed to read connection");
  BOOST_TEST((a.kind == answer_kind::retryable));
  BOOST_TEST(a.message.find("Failed to read connection") != std::string::npos);
}

// Found by fuzz_upstream_detail: the 200-byte cut split a character and the
// invalid UTF-8 message could not be stored as the job's error.
BOOST_AUTO_TEST_CASE(error_snippet_is_cut_at_a_character_boundary) {
  auto a = detail(403, std::string(199, 'a') + "\xc3\xa9");
  BOOST_TEST((a.kind == answer_kind::failed));
  BOOST_TEST(a.message.find("\xc3.") == std::string::npos);
  BOOST_TEST(a.message.find("...") != std::string::npos);
  auto b = list(429, "{\"error\": \"" + std::string(199, 'x') + "\\u00e9\"}");
  BOOST_TEST(b.message.find("\xc3.") == std::string::npos);
  BOOST_TEST(b.message.find("\xc3\xa9") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_an_error_body_is_replaced) {
  auto a = detail(503, "bad \xff\xfe byte and \xe2\x82 cut, ok \xe2\x82\xac");
  BOOST_TEST(a.message.find("\xff") == std::string::npos);
  BOOST_TEST(a.message.find("bad ?? byte and ?? cut, ok \xe2\x82\xac") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(classify_quota)

BOOST_AUTO_TEST_CASE(a_429_that_is_not_json_is_a_minute_limit_even_if_it_says_daily) {
  auto a = list(429, "<html>daily limit reached</html>", "");
  BOOST_TEST((a.kind == answer_kind::rate_limited));
  BOOST_TEST(!a.retry_after.has_value());
}

BOOST_AUTO_TEST_CASE(opendota_minute_body_is_a_minute_limit) {
  auto a = list(429, R"({"error":"minute rate limit exceeded"})", "");
  BOOST_TEST((a.kind == answer_kind::rate_limited));
}

BOOST_AUTO_TEST_CASE(a_400_about_the_key_is_key_refused_naming_the_setting) {
  for (auto* body : {R"({"error":"Invalid API key format"})",
                     R"({"error":"API key invalid. Please check the API dashboard or email support@opendota.com."})"}) {
    auto a = list(400, body, "");
    BOOST_TEST((a.kind == answer_kind::key_refused), body);
    BOOST_TEST(a.message.find("MATCHSYNC_UPSTREAM_API_KEY") != std::string::npos);
  }
  BOOST_TEST((list(400, R"({"error":"invalid query"})", "").kind == answer_kind::failed));
  BOOST_TEST((list(400, "API key", "").kind == answer_kind::failed));
}

BOOST_AUTO_TEST_CASE(rate_headers_say_spent_at_zero_or_below_and_nothing_otherwise) {
  using matchsync::upstream::read_quota_headers;
  BOOST_TEST(read_quota_headers("0", "").minute_spent);
  BOOST_TEST(read_quota_headers("-3", "").minute_spent);
  BOOST_TEST(!read_quota_headers("1", "").minute_spent);
  BOOST_TEST(!read_quota_headers("", "").minute_spent);
  BOOST_TEST(!read_quota_headers("zero", "x").minute_spent);
  BOOST_TEST(!read_quota_headers("-", "").minute_spent);
  BOOST_TEST(read_quota_headers("5", "0").day_spent);
  BOOST_TEST(!read_quota_headers("5", "1999").day_spent);
  BOOST_TEST(!read_quota_headers("0", "99999999999999999999999").day_spent);
}

BOOST_AUTO_TEST_SUITE_END()
