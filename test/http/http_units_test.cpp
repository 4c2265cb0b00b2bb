// The HTTP layer's pure parts: request validation, the JSON views, the error
// mapping, the event framing, the token cache, and the OpenAPI document
// against the server's route table. No database, no network.
#define BOOST_TEST_MODULE http_units
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "core/token.hpp"
#include "http/auth.hpp"
#include "http/errors.hpp"
#include "http/json_views.hpp"
#include "http/openapi.hpp"
#include "http/params.hpp"
#include "http/route_path.hpp"
#include "http/server.hpp"
#include "http/sse.hpp"

using namespace matchsync;
using namespace matchsync::http;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> keys_of(const nlohmann::ordered_json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it)
    out.push_back(it.key());
  return out;
}

sync_job sample_job() {
  sync_job j;
  j.id = 42;
  j.user_id = 7;
  j.account_id = 86745912;
  j.type = job_type::full_sync;
  j.status = job_status::running;
  j.phase = "listing";
  j.total_matches = 900;
  j.processed_matches = 120;
  j.new_matches = 80;
  j.updated_matches = 3;
  j.node = "node-a";
  j.attempt = 1;
  j.created_at = "2026-11-28T10:00:00Z";
  j.started_at = "2026-11-28T10:00:01Z";
  return j;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(request_validation)

BOOST_AUTO_TEST_CASE(limit_values_out_of_range_or_not_integers_are_refused) {
  for (std::string bad : {"0", "abc", "1000", "-1", "1.5", "", " 5", "5 ", "+5", "0x10",
                          "99999999999999999999999"}) {
    auto p = parse_int_param("limit", true, bad, 1, 100, 10);
    BOOST_TEST(!p.ok(), "accepted limit=" << bad);
    BOOST_TEST(p.error == "limit must be an integer between 1 and 100");
  }
}

BOOST_AUTO_TEST_CASE(limit_values_in_range_are_taken_and_absence_gives_the_default) {
  BOOST_TEST(*parse_int_param("limit", true, "1", 1, 100, 10).value == 1);
  BOOST_TEST(*parse_int_param("limit", true, "100", 1, 100, 10).value == 100);
  BOOST_TEST(*parse_int_param("limit", true, "007", 1, 100, 10).value == 7);
  BOOST_TEST(*parse_int_param("limit", false, "", 1, 100, 10).value == 10);
}

BOOST_AUTO_TEST_CASE(path_ids_must_be_integers_that_fit) {
  BOOST_TEST(*parse_id("job_id", "0").value == 0);
  BOOST_TEST(*parse_id("job_id", "9223372036854775807").value == INT64_MAX);
  for (std::string bad : {"", "abc", "-1", "1.0", "9223372036854775808", "1e3"}) {
    auto p = parse_id("job_id", bad);
    BOOST_TEST(!p.ok(), "accepted id " << bad);
    BOOST_TEST(p.error == "job_id must be a non-negative integer");
  }
}

BOOST_AUTO_TEST_CASE(an_empty_body_or_missing_job_type_means_incremental) {
  for (std::string body : {"", "  \r\n", "{}", "{\"other\": 1}"})
    BOOST_TEST((*parse_trigger_body(body).value == job_type::incremental_sync));
  BOOST_TEST((*parse_trigger_body(R"({"job_type":"full_sync"})").value == job_type::full_sync));
  BOOST_TEST((*parse_trigger_body(R"({"job_type":"incremental_sync"})").value ==
              job_type::incremental_sync));
}

BOOST_AUTO_TEST_CASE(a_trigger_body_that_is_not_a_json_object_is_refused) {
  BOOST_TEST(parse_trigger_body("{").error == "Request body is not valid JSON");
  BOOST_TEST(parse_trigger_body("{\"job_type\": \"\xff\"}").error ==
             "Request body is not valid JSON");
  for (std::string body : {"null", "[]", "[{\"job_type\":\"full_sync\"}]", "\"full_sync\"", "1",
                           "true"})
    BOOST_TEST(parse_trigger_body(body).error == "Request body must be a JSON object",
               "body " << body);
}

BOOST_AUTO_TEST_CASE(an_unknown_or_mistyped_job_type_is_refused) {
  for (std::string body : {R"({"job_type":"nope"})", R"({"job_type":1})", R"({"job_type":null})",
                           R"({"job_type":["full_sync"]})", R"({"job_type":"FULL_SYNC"})"})
    BOOST_TEST(parse_trigger_body(body).error ==
                 "job_type must be one of: incremental_sync, full_sync",
               "body " << body);
}

BOOST_AUTO_TEST_CASE(a_schedule_body_needs_enabled_and_a_whole_interval_in_range) {
  auto on = parse_schedule_body(R"({"enabled": true, "interval_minutes": 15})");
  BOOST_REQUIRE(on.ok());
  BOOST_TEST(on.value->enabled);
  BOOST_TEST(*on.value->interval_minutes == 15);
  auto off = parse_schedule_body(R"({"enabled": false})");
  BOOST_REQUIRE(off.ok());
  BOOST_TEST(!off.value->enabled);
  BOOST_TEST(!off.value->interval_minutes.has_value());
  BOOST_TEST(parse_schedule_body(R"({"enabled": true, "interval_minutes": 10080})").ok());
  for (std::string body :
       {R"({"enabled": true, "interval_minutes": 14})", R"({"enabled": true, "interval_minutes": 10081})",
        R"({"enabled": true, "interval_minutes": 60.5})", R"({"enabled": true, "interval_minutes": "60"})",
        R"({"enabled": true, "interval_minutes": -15})"})
    BOOST_TEST(parse_schedule_body(body).error ==
                 "interval_minutes must be an integer from 15 to 10080",
               "body " << body);
  for (std::string body : {R"({"interval_minutes": 60})", R"({"enabled": "yes"})",
                           R"({"enabled": 1})", R"({"enabled": null})"})
    BOOST_TEST(parse_schedule_body(body).error == "enabled must be true or false",
               "body " << body);
  BOOST_TEST(parse_schedule_body("").error == "Request body is not valid JSON");
  BOOST_TEST(parse_schedule_body("[]").error == "Request body must be a JSON object");
}

BOOST_AUTO_TEST_CASE(bearer_tokens_are_read_from_the_authorization_header) {
  BOOST_TEST(*bearer_token("Bearer abc") == "abc");
  BOOST_TEST(*bearer_token("bearer   abc  ") == "abc");
  BOOST_TEST(*bearer_token("BEARER abc") == "abc");
  for (std::string bad : {"", "Bearer", "Bearer ", "Bearerabc", "Basic abc", "Bearer a b",
                          "Bearer \x01", "Token abc"})
    BOOST_TEST(!bearer_token(bad).has_value(), "accepted " << bad);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(error_mapping)

BOOST_AUTO_TEST_CASE(each_domain_error_has_its_status) {
  BOOST_TEST(status_of(errc::job_not_found) == 404);
  BOOST_TEST(status_of(errc::illegal_transition) == 400);
  BOOST_TEST(status_of(errc::conflict) == 409);
  BOOST_TEST(status_of(errc::invalid_input) == 422);
  BOOST_TEST(status_of(errc::storage_unavailable) == 503);
  BOOST_TEST(status_of(errc::schema_outdated) == 503);
  BOOST_TEST(status_of(errc::timeout) == 503);
  BOOST_TEST(status_of(errc::upstream_failed) == 502);
  BOOST_TEST(status_of(errc::internal) == 500);
}

BOOST_AUTO_TEST_CASE(domain_messages_are_shown_but_internals_are_not) {
  BOOST_TEST(detail_of(errc::illegal_transition, "Cannot cancel job with status: completed") ==
             "Cannot cancel job with status: completed");
  BOOST_TEST(detail_of(errc::storage_unavailable, "database unavailable: host=/secret") ==
             "Database unavailable");
  BOOST_TEST(detail_of(errc::internal, "database error: syntax") == "Internal server error");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_in_stored_text_is_replaced_not_thrown) {
  nlohmann::ordered_json j{{"detail", std::string("bad \xff\xfe byte")}};
  std::string out;
  BOOST_REQUIRE_NO_THROW(out = dump_json(j));
  BOOST_TEST(!json::parse(out, nullptr, false).is_discarded());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_views)

BOOST_AUTO_TEST_CASE(a_sync_job_has_exactly_the_spec_keys_in_order) {
  auto v = job_view(sample_job());
  std::vector<std::string> expected{
    "id", "account_id", "job_type", "status", "phase", "resume_at", "triggered_by",
    "total_matches", "processed_matches",
    "new_matches", "updated_matches", "failed_matches", "progress_percentage", "node",
    "attempt", "created_at", "started_at", "completed_at", "cancel_requested_at",
    "error_message"};
  BOOST_TEST(keys_of(v) == expected, boost::test_tools::per_element());
  BOOST_TEST(v["id"] == 42);
  BOOST_TEST(v["job_type"] == "full_sync");
  BOOST_TEST(v["status"] == "running");
  BOOST_TEST(v["phase"] == "listing");
  BOOST_TEST(v["progress_percentage"].get<double>() == 13.3);
  BOOST_TEST(v["completed_at"].is_null());
  BOOST_TEST(v["error_message"].is_null());
}

BOOST_AUTO_TEST_CASE(a_terminal_job_has_no_phase_and_a_completed_one_is_at_100) {
  auto j = sample_job();
  j.status = job_status::completed;
  j.completed_at = "2026-11-28T10:05:00Z";
  auto v = job_view(j);
  BOOST_TEST(v["phase"].is_null());
  BOOST_TEST(v["progress_percentage"].get<double>() == 100.0);
}

BOOST_AUTO_TEST_CASE(a_match_says_whether_the_player_won) {
  db::match_row m;
  m.match_id = 7;
  m.player_slot = 3;  // Radiant
  m.radiant_win = true;
  BOOST_TEST(match_view(m, false)["won"] == true);
  m.player_slot = 130;  // Dire
  BOOST_TEST(match_view(m, false)["won"] == false);
  m.radiant_win = false;
  BOOST_TEST(match_view(m, false)["won"] == true);
  m.radiant_win.reset();
  BOOST_TEST(match_view(m, false)["won"].is_null());
  std::vector<std::string> expected{"match_id", "start_time", "duration", "hero_id",
                                    "player_slot", "radiant_win", "won", "kills", "deaths",
                                    "assists", "game_mode", "lobby_type", "has_details"};
  BOOST_TEST(keys_of(match_view(m, false)) == expected, boost::test_tools::per_element());
  BOOST_TEST(!match_view(m, false).contains("details"));
}

BOOST_AUTO_TEST_CASE(match_details_are_an_object_or_null) {
  db::match_row m;
  m.match_id = 7;
  BOOST_TEST(match_view(m, true)["details"].is_null());
  m.details_json = R"({"match_id": 7, "players": []})";
  auto v = match_view(m, true);
  BOOST_TEST(v["details"].is_object());
  BOOST_TEST(v["details"]["match_id"] == 7);
}

BOOST_AUTO_TEST_CASE(the_win_rate_is_wins_over_decided_matches) {
  db::match_stats s;
  s.total_matches = 5;
  s.wins = 2;
  s.losses = 2;
  s.avg_kills = 7.123;
  auto v = stats_view(s);
  BOOST_TEST(v["win_rate"].get<double>() == 0.5);
  BOOST_TEST(v["avg_kills"].get<double>() == 7.12);
  BOOST_TEST(stats_view(db::match_stats{})["win_rate"].get<double>() == 0.0);
  std::vector<std::string> expected{"total_matches", "wins", "losses", "win_rate",
                                    "avg_kills", "avg_deaths", "avg_assists"};
  BOOST_TEST(keys_of(v) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_job_event_is_one_event_with_a_single_data_line) {
  auto j = sample_job();
  j.error_message = "line one\nline two";
  auto e = job_event(j);
  BOOST_TEST(e.rfind("event: job\ndata: {", 0) == 0);
  BOOST_TEST(e.size() > 2);
  BOOST_TEST(e.substr(e.size() - 2) == "\n\n");
  // Exactly the two newlines of the event's end and the one after `event:`.
  BOOST_TEST(std::count(e.begin(), e.end(), '\n') == 3);
  auto data = e.substr(std::string("event: job\ndata: ").size());
  BOOST_TEST(json::parse(data)["error_message"] == "line one\nline two");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(token_cache_and_authenticator)

BOOST_AUTO_TEST_CASE(cached_tokens_expire_after_the_ttl) {
  token_cache cache(10, 1000ms);
  auto t0 = token_cache::clock::time_point{};
  cache.put("h", principal{1, 11}, t0);
  BOOST_TEST(cache.get("h", t0 + 999ms).has_value());
  BOOST_TEST(!cache.get("h", t0 + 1000ms).has_value());
  BOOST_TEST(cache.size() == 0u);
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_token_leaves_a_full_cache) {
  token_cache cache(2, 60s);
  auto t0 = token_cache::clock::time_point{};
  cache.put("a", principal{1, 1}, t0);
  cache.put("b", principal{2, 2}, t0);
  BOOST_TEST(cache.get("a", t0).has_value());  // b is now the oldest
  cache.put("c", principal{3, 3}, t0);
  BOOST_TEST(cache.get("a", t0).has_value());
  BOOST_TEST(!cache.get("b", t0).has_value());
  BOOST_TEST(cache.get("c", t0)->user_id == 3);
}

BOOST_AUTO_TEST_CASE(a_known_token_costs_one_lookup_then_none) {
  int lookups = 0;
  const std::string token(64, 'a');
  auto good = hash_token(token);
  authenticator auth(
    "token",
    [&](const std::string& hash) -> std::optional<principal> {
      ++lookups;
      if (hash == good)
        return principal{5, 55};
      return std::nullopt;
    },
    [] { return principal{}; });
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(auth.authenticate("Bearer " + token).who->user_id == 5);
  BOOST_TEST(lookups == 1);
}

BOOST_AUTO_TEST_CASE(missing_malformed_and_unknown_tokens_are_refused) {
  int lookups = 0;
  authenticator auth(
    "token", [&](const std::string&) -> std::optional<principal> {
      ++lookups;
      return std::nullopt;
    },
    [] { return principal{}; });
  BOOST_TEST(auth.authenticate("").detail == "Not authenticated");
  BOOST_TEST(auth.authenticate("Basic dXNlcjpwYXNz").detail == "Not authenticated");
  BOOST_TEST(lookups == 0);
  // Not the shape of an issued token (64 lowercase hex): refused unasked.
  for (auto junk : {"nope", "ABCDEF", "zz", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeF",
                    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"}) {
    BOOST_TEST(auth.authenticate(std::string("Bearer ") + junk).detail == "Invalid token");
    BOOST_TEST(!auth.authenticate(std::string("Bearer ") + junk).who.has_value());
  }
  BOOST_TEST(lookups == 0);
  // A well-formed unknown token is asked once, then remembered.
  const std::string unknown(64, 'b');
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(auth.authenticate("Bearer " + unknown).detail == "Invalid token");
  BOOST_TEST(lookups == 1);
}

BOOST_AUTO_TEST_CASE(with_auth_none_every_request_is_the_default_user_looked_up_once) {
  int ensures = 0;
  authenticator auth(
    "none", [](const std::string&) -> std::optional<principal> { return std::nullopt; },
    [&] {
      ++ensures;
      return principal{9, 99};
    });
  BOOST_TEST(!auth.required());
  BOOST_TEST(auth.authenticate("").who->account_id == 99);
  BOOST_TEST(auth.authenticate("Bearer whatever").who->user_id == 9);
  BOOST_TEST(ensures == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(openapi_description)

std::vector<route_info> server_routes() {
  config cfg;
  cfg.http_port = 0;
  api_server server(cfg, services{});
  return server.routes();
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

BOOST_AUTO_TEST_CASE(every_route_of_the_server_is_described) {
  auto doc = json::parse(openapi_document(), nullptr, false);
  BOOST_REQUIRE(!doc.is_discarded());
  BOOST_TEST(doc["openapi"].get<std::string>().rfind("3.", 0) == 0);
  auto routes = server_routes();
  BOOST_TEST(routes.size() >= 14u);
  for (auto& r : routes) {
    BOOST_TEST(doc["paths"].contains(r.openapi_path), "undocumented path " << r.openapi_path);
    if (doc["paths"].contains(r.openapi_path))
      BOOST_TEST(doc["paths"][r.openapi_path].contains(lower(r.method)),
                 "undocumented " << r.method << " " << r.openapi_path);
  }
}

BOOST_AUTO_TEST_CASE(every_described_operation_is_a_route_of_the_server) {
  auto doc = json::parse(openapi_document());
  std::set<std::pair<std::string, std::string>> served;
  for (auto& r : server_routes())
    served.insert({lower(r.method), r.openapi_path});
  for (auto& [path, ops] : doc["paths"].items())
    for (auto& [method, op] : ops.items())
      BOOST_TEST(served.count(std::make_pair(method, path)) == 1u, "no route for " << method << " " << path);
}

BOOST_AUTO_TEST_CASE(the_document_marks_exactly_the_public_routes_as_needing_no_token) {
  auto doc = json::parse(openapi_document());
  BOOST_TEST(doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer");
  std::set<std::string> public_routes;
  for (auto& r : server_routes()) {
    auto& op = doc["paths"][r.openapi_path][lower(r.method)];
    bool documented_public = op.contains("security") && op["security"].empty();
    BOOST_TEST(documented_public == !r.needs_auth, r.method << " " << r.openapi_path);
    if (!r.needs_auth)
      public_routes.insert(r.openapi_path);
  }
  std::set<std::string> expected{"/health", "/ready", "/metrics", "/openapi.json"};
  BOOST_TEST(public_routes == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_documented_schemas_have_the_keys_the_views_write) {
  auto doc = json::parse(openapi_document());
  auto& schemas = doc["components"]["schemas"];
  auto props = [&](const std::string& name) {
    std::set<std::string> out;
    for (auto& [k, v] : schemas[name]["properties"].items())
      out.insert(k);
    return out;
  };
  auto view_keys = [](const nlohmann::ordered_json& j) {
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it)
      out.insert(it.key());
    return out;
  };
  BOOST_TEST(props("SyncJob") == view_keys(job_view(sample_job())));
  BOOST_TEST(props("Match") == view_keys(match_view(db::match_row{}, false)));
  BOOST_TEST(props("StatsSummary") == view_keys(stats_view(db::match_stats{})));
}

BOOST_AUTO_TEST_SUITE_END()

// Long path segments are cut before any route regex sees them
// (route_path.hpp), and the cut path routes as the whole one does.
BOOST_AUTO_TEST_SUITE(route_path)

BOOST_AUTO_TEST_CASE(long_segments_are_cut_and_short_paths_kept_as_they_are) {
  using matchsync::http::max_routed_segment;
  using matchsync::http::routable_path;
  using matchsync::http::routed_path;
  BOOST_TEST(routed_path("/sync/jobs/42") == "/sync/jobs/42");
  BOOST_TEST(routable_path("/sync/jobs/42"));
  BOOST_TEST(routed_path("") == "");
  BOOST_TEST(routed_path("//") == "//");
  std::string edge(max_routed_segment, '7');
  BOOST_TEST(routable_path("/sync/jobs/" + edge));
  BOOST_TEST(routed_path("/sync/jobs/" + edge) == "/sync/jobs/" + edge);
  BOOST_TEST(!routable_path("/sync/jobs/" + edge + "7"));
  BOOST_TEST(routed_path("/sync/jobs/" + std::string(8000, '7')) == "/sync/jobs/" + edge);
  auto cut = routed_path("/" + std::string(5000, 'a') + "/x/" + std::string(70, 'b') + "/");
  BOOST_TEST(cut == "/" + std::string(max_routed_segment, 'a') + "/x/" +
                      std::string(max_routed_segment, 'b') + "/");
  BOOST_TEST(routable_path(cut));
  // Many short segments are routable as they are: no repetition runs long.
  std::string many;
  for (int i = 0; i < 2000; ++i)
    many += "/ab";
  BOOST_TEST(routable_path(many));
  BOOST_TEST(routed_path(many) == many);
}

BOOST_AUTO_TEST_SUITE_END()

