// The fake OpenDota itself: its data and every misbehaviour other suites
// rely on, checked with a plain HTTP client.
#define BOOST_TEST_MODULE fake_opendota
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test/fake_opendota/fake_server.hpp"

using matchsync::test::fake_opendota;
using matchsync::test::scripted_answer;
using json = nlohmann::json;

namespace {

// One fake for the whole suite (each case resets it): starting a process
// per case would cost more than the cases.
fake_opendota& fake() {
  static fake_opendota instance;
  return instance;
}

struct fresh_fake {
  fresh_fake() { fake().reset(); }
};

httplib::Result get(const std::string& target) {
  httplib::Client cli("127.0.0.1", fake().port());
  cli.set_read_timeout(std::chrono::seconds(10));
  return cli.Get(target);
}

json get_json(const std::string& target) {
  auto res = get(target);
  BOOST_TEST_REQUIRE(static_cast<bool>(res));
  BOOST_TEST_REQUIRE(res->status == 200);
  return json::parse(res->body);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fake_opendota_suite, fresh_fake)

BOOST_AUTO_TEST_CASE(default_history_size_is_account_id_modulo_1000) {
  for (std::int64_t account : {0, 1, 99, 100, 101, 537, 1537}) {
    auto all = get_json("/api/players/" + std::to_string(account) + "/matches");
    BOOST_TEST(all.size() == static_cast<std::size_t>(account % 1000));
  }
}

BOOST_AUTO_TEST_CASE(history_is_newest_first_with_unique_ids_per_account) {
  auto a = get_json("/api/players/537/matches");
  BOOST_TEST_REQUIRE(a.size() == 537u);
  BOOST_TEST(a[0]["match_id"].get<std::int64_t>() ==
             fake_opendota::match_id(537, 536));
  BOOST_TEST(a[536]["match_id"].get<std::int64_t>() ==
             fake_opendota::match_id(537, 0));
  for (std::size_t i = 1; i < a.size(); ++i)
    BOOST_TEST(a[i - 1]["match_id"].get<std::int64_t>() >
               a[i]["match_id"].get<std::int64_t>());
  for (const char* field :
       {"match_id", "player_slot", "radiant_win", "duration", "game_mode",
        "lobby_type", "hero_id", "start_time", "kills", "deaths", "assists"})
    BOOST_TEST(a[0].contains(field), field);
  // Another account's ids never meet these.
  auto b = get_json("/api/players/536/matches");
  BOOST_TEST(b[0]["match_id"].get<std::int64_t>() <
             a[536]["match_id"].get<std::int64_t>());
}

BOOST_AUTO_TEST_CASE(pages_follow_limit_and_offset) {
  auto all = get_json("/api/players/250/matches");
  auto page = get_json("/api/players/250/matches?limit=100&offset=200&significant=0");
  BOOST_TEST_REQUIRE(page.size() == 50u);
  BOOST_TEST(page[0] == all[200]);
  auto past_end = get_json("/api/players/250/matches?limit=100&offset=300");
  BOOST_TEST(past_end.empty());
}

BOOST_AUTO_TEST_CASE(size_and_append_change_the_history) {
  fake().set_history_size(7, 3);
  BOOST_TEST(get_json("/api/players/7/matches").size() == 3u);
  auto added = fake().append_matches(7, 2);
  BOOST_TEST_REQUIRE(added.size() == 2u);
  BOOST_TEST(added[0] == fake_opendota::match_id(7, 4));
  BOOST_TEST(added[1] == fake_opendota::match_id(7, 3));
  auto all = get_json("/api/players/7/matches");
  BOOST_TEST_REQUIRE(all.size() == 5u);
  BOOST_TEST(all[0]["match_id"].get<std::int64_t>() == added[0]);
  BOOST_TEST(fake().history(7) == all);
}

BOOST_AUTO_TEST_CASE(change_bumps_version_in_summary_and_detail) {
  auto id = fake_opendota::match_id(5, 2);
  auto before = get_json("/api/players/5/matches");
  auto detail_before = get_json("/api/matches/" + std::to_string(id));
  BOOST_TEST(fake().change_match(id) == 1);
  auto after = get_json("/api/players/5/matches");
  auto detail_after = get_json("/api/matches/" + std::to_string(id));
  BOOST_TEST(after[2]["version"] == 1);
  BOOST_TEST(after[2] != before[2]);
  BOOST_TEST(after[1] == before[1]);
  BOOST_TEST(detail_after["version"] == 1);
  BOOST_TEST(detail_after != detail_before);
}

BOOST_AUTO_TEST_CASE(detail_has_the_configured_size_match_id_and_players) {
  auto id = fake_opendota::match_id(42, 10);
  auto res = get("/api/matches/" + std::to_string(id));
  BOOST_TEST_REQUIRE(static_cast<bool>(res));
  BOOST_TEST(res->body.size() > 18000u);
  BOOST_TEST(res->body.size() < 22000u);
  auto d = json::parse(res->body);
  BOOST_TEST(d["match_id"].get<std::int64_t>() == id);
  BOOST_TEST(d["players"].size() == 10u);
  fake().set_detail_size(3000);
  auto small = get("/api/matches/" + std::to_string(id));
  BOOST_TEST(small->body.size() < 3500u);
}

// FACTS.md: what OpenDota's own answers look like, for benchmarks that
// must meet them.
BOOST_AUTO_TEST_CASE(real_shapes_list_unparsed_matches_with_null_version_and_weigh_details_like_opendota) {
  fake().set_history_size(7, 200);
  fake().set_real_shapes();
  auto list = get_json("/api/players/7/matches");
  BOOST_TEST_REQUIRE(list.size() == 200u);
  int parsed = 0;
  std::size_t small_max = 0, big_min = SIZE_MAX;
  for (const auto& row : list) {
    BOOST_TEST(row.contains("average_rank"));
    BOOST_TEST(row.contains("hero_variant"));
    auto res = get("/api/matches/" + std::to_string(row["match_id"].get<std::int64_t>()));
    BOOST_TEST_REQUIRE(res->status == 200);
    auto d = json::parse(res->body);
    BOOST_TEST(d["version"] == row["version"]);
    BOOST_TEST(d["radiant_logo"].get<std::int64_t>() > 2'000'000'000'000'000'000LL);
    bool anonymous = false;
    for (const auto& p : d["players"])
      anonymous = anonymous || p["account_id"].is_null();
    BOOST_TEST(anonymous);
    if (row["version"].is_null()) {
      small_max = std::max(small_max, res->body.size());
      BOOST_TEST(!d["players"][0].contains("purchase_log"));
    } else {
      ++parsed;
      big_min = std::min(big_min, res->body.size());
      BOOST_TEST(d["players"][0]["purchase_log"].size() > 100u);
    }
  }
  BOOST_TEST(parsed > 60);  // 45 % of 200, give or take the draw
  BOOST_TEST(parsed < 120);
  BOOST_TEST(small_max > 13000u);
  BOOST_TEST(small_max < 16000u);
  BOOST_TEST(big_min > 240000u);
  BOOST_TEST(big_min < 260000u);
  // Names outside ASCII, as UTF-8.
  auto any = get("/api/matches/" + std::to_string(fake_opendota::match_id(7, 0)));
  bool cjk = false;
  for (const char* first_letter : {"\xe7\x8e\xa9", "\xe3\x82\xb2", "\xec\x84\xa0"})  // 玩 ゲ 선
    cjk = cjk || any->body.find(first_letter) != std::string::npos;
  BOOST_TEST(cjk);
  // A reset brings the plain shapes back.
  fake().reset();
  BOOST_TEST(get_json("/api/players/7/matches")[0]["version"] == 0);
}

BOOST_AUTO_TEST_CASE(unknown_and_marked_matches_have_no_details) {
  auto beyond = get("/api/matches/" + std::to_string(fake_opendota::match_id(42, 42)));
  BOOST_TEST(beyond->status == 404);
  auto id = fake_opendota::match_id(42, 3);
  fake().set_no_details(id);
  BOOST_TEST(get("/api/matches/" + std::to_string(id))->status == 404);
  fake().set_no_details(id, false);
  BOOST_TEST(get("/api/matches/" + std::to_string(id))->status == 200);
}

BOOST_AUTO_TEST_CASE(bad_escapes_put_a_lone_surrogate_and_a_nul_escape_in_the_detail_text) {
  auto id = fake_opendota::match_id(42, 4);
  fake().set_bad_escapes(id);
  auto res = get("/api/matches/" + std::to_string(id));
  BOOST_TEST_REQUIRE(res->status == 200);
  BOOST_TEST(res->body.find(R"("personaname":"ab\ud83d")") != std::string::npos);
  BOOST_TEST(res->body.find(R"("chat":"gg\u0000wp")") != std::string::npos);
  BOOST_TEST(res->body.find(R"("escaped":"\\ud83d")") != std::string::npos);
  // A strict parser refuses it, as PostgreSQL's jsonb does.
  BOOST_TEST(!json::accept(res->body));
  fake().set_bad_escapes(id, false);
  BOOST_TEST(json::accept(get("/api/matches/" + std::to_string(id))->body));
}

BOOST_AUTO_TEST_CASE(request_time_fields_differ_on_every_answer_and_nothing_else_does) {
  auto id = fake_opendota::match_id(42, 5);
  auto plain = get_json("/api/matches/" + std::to_string(id));
  BOOST_TEST(!plain["players"][0].contains("benchmarks"));
  fake().set_request_time_fields();
  auto a = get_json("/api/matches/" + std::to_string(id));
  auto b = get_json("/api/matches/" + std::to_string(id));
  BOOST_TEST(a != b);
  for (auto* field : {"benchmarks", "personaname", "last_login", "rank_tier", "is_subscriber"})
    BOOST_TEST(a["players"][3][field] != b["players"][3][field], field);
  BOOST_TEST(a["od_data"] != b["od_data"]);
  BOOST_TEST(a["radiant_team"] != b["radiant_team"]);
  // Without them both answers are the match as it was.
  for (auto* j : {&a, &b}) {
    for (auto* field : {"od_data", "league", "radiant_team", "dire_team"})
      j->erase(field);
    for (auto& p : (*j)["players"])
      for (auto* field : {"benchmarks", "personaname", "name", "last_login", "rank_tier",
                          "computed_mmr", "is_subscriber", "is_contributor", "cosmetics"})
        p.erase(field);
    j->erase("chat");
  }
  plain.erase("chat");  // padding, sized around what precedes it
  BOOST_TEST(a == plain);
  BOOST_TEST(b == plain);
}

BOOST_AUTO_TEST_CASE(a_hidden_match_is_not_listed_nor_counted_until_revealed_in_its_place) {
  auto id = fake_opendota::match_id(42, 39);
  fake().set_hidden(id);
  auto without = get_json("/api/players/42/matches");
  BOOST_TEST(without.size() == 41u);
  auto wl = get_json("/api/players/42/wl");
  BOOST_TEST(wl["win"].get<int>() + wl["lose"].get<int>() == 41);
  // Offsets count listed matches: the second page starts past the gap.
  auto page = get_json("/api/players/42/matches?limit=2&offset=2");
  BOOST_TEST(page[0]["match_id"].get<std::int64_t>() == fake_opendota::match_id(42, 38));
  fake().set_hidden(id, false);
  auto with = get_json("/api/players/42/matches");
  BOOST_TEST(with.size() == 42u);
  BOOST_TEST(with[2]["match_id"].get<std::int64_t>() == id);
}

BOOST_AUTO_TEST_CASE(an_unparsed_match_lists_version_null_until_parsed_then_grows) {
  fake().set_detail_size(3000);
  fake().set_unparsed(42);
  auto id = fake_opendota::match_id(42, 40);
  auto listed = get_json("/api/players/42/matches?limit=3");
  BOOST_TEST(listed[1]["match_id"].get<std::int64_t>() == id);
  BOOST_TEST(listed[1]["version"].is_null());
  auto before = get("/api/matches/" + std::to_string(id))->body;
  BOOST_TEST(json::parse(before)["version"].is_null());
  BOOST_TEST(fake().parse_match(id) == 21);
  auto after = get_json("/api/players/42/matches?limit=3");
  BOOST_TEST(after[1]["version"] == 21);
  BOOST_TEST(after[0] == listed[0]);  // the others stay unparsed
  BOOST_TEST(after[0]["version"].is_null());
  auto parsed = get("/api/matches/" + std::to_string(id))->body;
  BOOST_TEST(parsed.size() > 4 * before.size());
  auto d = json::parse(parsed);
  BOOST_TEST(d["version"] == 21);
  BOOST_TEST(d["players"][0]["purchase_log"].size() == 40u);
  BOOST_TEST(!json::parse(before)["players"][0].contains("purchase_log"));
}

BOOST_AUTO_TEST_CASE(scripted_answers_come_in_order_then_normal_ones) {
  fake().script("/api/matches/.*",
                {scripted_answer::http_status(503),
                 scripted_answer::too_many_requests(7),
                 scripted_answer::too_many_requests(std::nullopt),
                 scripted_answer::daily_limit()});
  BOOST_TEST(fake().pending_scripted_answers() == 4);
  auto target = "/api/matches/" + std::to_string(fake_opendota::match_id(3, 1));
  auto r1 = get(target);
  BOOST_TEST(r1->status == 503);
  auto r2 = get(target);
  BOOST_TEST(r2->status == 429);
  BOOST_TEST(r2->get_header_value("Retry-After") == "7");
  auto r3 = get(target);
  BOOST_TEST(r3->status == 429);
  BOOST_TEST(!r3->has_header("Retry-After"));
  auto r4 = get(target);
  BOOST_TEST(r4->status == 429);
  BOOST_TEST(json::parse(r4->body)["error"] == "daily api limit exceeded");
  BOOST_TEST(get(target)->status == 200);
  BOOST_TEST(fake().pending_scripted_answers() == 0);
  // A list path did not match the script.
  BOOST_TEST(get("/api/players/3/matches")->status == 200);
}

BOOST_AUTO_TEST_CASE(repeat_serves_an_answer_several_times) {
  fake().script("/api/players/9/matches",
                {scripted_answer::http_status(502).times(3)});
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(get("/api/players/9/matches")->status == 502);
  BOOST_TEST(get("/api/players/9/matches")->status == 200);
}

BOOST_AUTO_TEST_CASE(malformed_answer_is_complete_http_with_invalid_json) {
  fake().script(".*", {scripted_answer::malformed_json()});
  auto res = get("/api/players/300/matches");
  BOOST_TEST_REQUIRE(static_cast<bool>(res));
  BOOST_TEST(res->status == 200);
  BOOST_TEST(!res->body.empty());
  BOOST_TEST(json::parse(res->body, nullptr, false).is_discarded());
}

BOOST_AUTO_TEST_CASE(truncated_body_fails_the_clients_read) {
  fake().script(".*", {scripted_answer::truncated_body()});
  auto res = get("/api/matches/" + std::to_string(fake_opendota::match_id(42, 1)));
  BOOST_TEST(!res);
  BOOST_TEST(fake().log().at(0).action == "truncate");
}

BOOST_AUTO_TEST_CASE(connection_reset_gives_no_answer) {
  fake().script(".*", {scripted_answer::connection_reset()});
  auto res = get("/api/players/5/matches");
  BOOST_TEST(!res);
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 1u);
  BOOST_TEST(log[0].status == 0);
  // The fake still serves afterwards.
  BOOST_TEST(get("/api/players/5/matches")->status == 200);
}

BOOST_AUTO_TEST_CASE(latency_delays_answers_and_the_log_shows_them_in_flight) {
  fake().set_latency(300);
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(get("/api/players/2/matches")->status == 200);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start);
  BOOST_TEST(elapsed.count() >= 300);
  fake().set_latency(0);
  fake().script(".*", {scripted_answer::delayed(3000)});
  std::thread slow([] { get("/api/players/2/matches"); });
  BOOST_TEST(fake().wait_for_requests("/api/players/2/matches", 2,
                                      std::chrono::seconds(5)));
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 2u);
  BOOST_TEST(log[1].done == false);
  slow.join();
  BOOST_TEST(fake().log().at(1).done == true);
}

BOOST_AUTO_TEST_CASE(random_errors_follow_the_rate_and_the_seed) {
  auto run = [] {
    std::vector<int> statuses;
    for (int i = 0; i < 200; ++i)
      statuses.push_back(get("/api/players/1/matches")->status);
    return statuses;
  };
  fake().set_random_errors(0.3, {503}, 42);
  auto first = run();
  auto errors = std::count(first.begin(), first.end(), 503);
  BOOST_TEST(errors > 30);
  BOOST_TEST(errors < 90);
  fake().reset();
  fake().set_random_errors(0.3, {503}, 42);
  BOOST_TEST(run() == first);
}

BOOST_AUTO_TEST_CASE(a_random_fault_mix_draws_each_fault_and_serves_bursts_whole) {
  using matchsync::test::random_fault;
  auto burst = scripted_answer::too_many_requests(7);
  burst.times(3);
  std::vector<random_fault> mix{{0.2, scripted_answer::http_status(503)},
                                {0.05, burst},
                                {0.05, scripted_answer::truncated_body()},
                                {0.05, scripted_answer::connection_reset()}};
  auto run = [&] {
    fake().reset();
    fake().set_random_faults(mix, 9, "/api/matches/.*");
    std::vector<int> statuses;
    for (int i = 0; i < 300; ++i) {
      auto res = get("/api/matches/" + std::to_string(fake_opendota::match_id(3, 1)));
      statuses.push_back(res ? res->status : 0);
      if (res && res->status == 429)
        BOOST_TEST(res->get_header_value("Retry-After") == "7");
    }
    return statuses;
  };
  auto first = run();
  auto count = [&](int s) { return std::count(first.begin(), first.end(), s); };
  BOOST_TEST(count(503) > 30);
  BOOST_TEST(count(0) > 5);  // truncated and reset: no usable answer
  BOOST_TEST(count(429) % 3 == 0);
  BOOST_TEST(count(429) >= 6);
  for (std::size_t i = 0; i < first.size();) {  // 429s come in bursts of 3
    if (first[i] != 429) {
      ++i;
      continue;
    }
    BOOST_TEST_REQUIRE(i + 2 < first.size());
    BOOST_TEST((first[i + 1] == 429 && first[i + 2] == 429));
    i += 3;
  }
  BOOST_TEST(get("/api/players/3/matches")->status == 200);  // other paths spared
  BOOST_TEST(run() == first);
  fake().set_random_faults({});
  BOOST_TEST(get("/api/matches/" + std::to_string(fake_opendota::match_id(3, 1)))->status == 200);
}

BOOST_AUTO_TEST_CASE(log_records_path_query_status_and_reset_clears_it) {
  get("/api/players/12/matches?limit=5&offset=10&significant=0&api_key=k%2B1");
  get("/api/matches/" + std::to_string(fake_opendota::match_id(12, 40)));
  auto log = fake().log();
  BOOST_TEST_REQUIRE(log.size() == 2u);
  BOOST_TEST(log[0].path == "/api/players/12/matches");
  BOOST_TEST(log[0].query == "limit=5&offset=10&significant=0&api_key=k%2B1");
  BOOST_TEST(log[0].params.at("api_key") == "k+1");
  // Not a UUID: OpenDota refuses it before any route.
  BOOST_TEST(log[0].status == 400);
  BOOST_TEST(log[0].action == "bad_key");
  BOOST_TEST(log[1].status == 404);
  BOOST_TEST(log[0].t_ms <= log[1].t_ms);
  BOOST_TEST(fake().log(1).size() == 1u);
  fake().reset();
  BOOST_TEST(fake().log().empty());
}

BOOST_AUTO_TEST_CASE(bad_control_requests_are_refused) {
  BOOST_CHECK_THROW(fake().control("POST", "/_control/script",
                                   {{"path", ".*"},
                                    {"answers", {{{"action", "explode"}}}}}),
                    std::runtime_error);
  BOOST_CHECK_THROW(fake().control("POST", "/_control/script",
                                   {{"path", "("}, {"answers", json::array()}}),
                    std::runtime_error);
  BOOST_TEST(fake().pending_scripted_answers() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// OpenDota's limiter (odota/core svc/web.ts), with the bodies and headers a
// live answer has.
BOOST_FIXTURE_TEST_SUITE(fake_opendota_quota, fresh_fake)

namespace {
matchsync::test::quota_limits limits(std::int64_t per_minute, std::int64_t per_day) {
  matchsync::test::quota_limits l;
  l.per_minute = per_minute;
  l.per_day = per_day;
  return l;
}

std::int64_t clock_minute() {
  return std::chrono::duration_cast<std::chrono::minutes>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}
}  // namespace

BOOST_AUTO_TEST_CASE(no_limiter_no_rate_headers_and_no_retry_after) {
  auto r = get("/api/players/3/matches");
  BOOST_TEST(r->status == 200);
  BOOST_TEST(!r->has_header("X-Rate-Limit-Remaining-Minute"));
  BOOST_TEST(!r->has_header("Retry-After"));
}

BOOST_AUTO_TEST_CASE(minute_counter_counts_every_request_of_a_clock_minute_404s_and_429s_too) {
  fake().set_limits(limits(3, 0));
  // Four requests inside one clock minute; a run that straddles a minute
  // boundary is repeated (at most once more can straddle).
  for (int run = 0; run < 3; ++run) {
    // A run starts from nothing: the one before may have counted in the
    // minute this one starts in.
    fake().reset();
    fake().set_limits(limits(3, 0));
    auto before = clock_minute();
    auto r1 = get("/api/matches/1");  // a 404 counts
    auto r2 = get("/api/players/3/matches");
    auto r3 = get("/api/players/3/matches");
    auto r4 = get("/api/players/3/matches");
    auto r5 = get("/api/players/3/matches");  // a 429 counts too
    auto q = fake().quota();  // read inside the minute the check below holds
    if (clock_minute() != before || q.minute != before)
      continue;
    BOOST_TEST(r1->status == 404);
    BOOST_TEST(r1->get_header_value("X-Rate-Limit-Remaining-Minute") == "2");
    BOOST_TEST(r3->status == 200);
    BOOST_TEST(r3->get_header_value("X-Rate-Limit-Remaining-Minute") == "0");
    BOOST_TEST(r4->status == 429);
    BOOST_TEST(r4->body == R"({"error":"minute rate limit exceeded"})");
    BOOST_TEST(!r4->has_header("Retry-After"));
    BOOST_TEST(r5->get_header_value("X-Rate-Limit-Remaining-Minute") == "-2");
    BOOST_TEST(q.used_minute == 5);
    BOOST_TEST(!r1->has_header("X-Rate-Limit-Remaining-Day"));
    return;
  }
  BOOST_FAIL("three runs straddled a clock minute");
}

BOOST_AUTO_TEST_CASE(daily_counter_answers_the_daily_body_and_its_header_without_a_key) {
  fake().set_limits(limits(0, 2));
  auto r1 = get("/api/players/3/matches");
  BOOST_TEST(r1->get_header_value("X-Rate-Limit-Remaining-Day") == "1");
  auto r2 = get("/api/matches/1");
  BOOST_TEST(r2->status == 404);
  BOOST_TEST(r2->get_header_value("X-Rate-Limit-Remaining-Day") == "0");
  auto r3 = get("/api/players/3/matches");
  BOOST_TEST(r3->status == 429);
  BOOST_TEST(r3->body == R"({"error":"daily api limit exceeded"})");
  BOOST_TEST(!r3->has_header("Retry-After"));
  // With a key: no daily limit, no day header.
  auto k = get("/api/players/3/matches?api_key=0b4c1e2a-8d3f-4a6b-9c7d-1e2f3a4b5c6d");
  BOOST_TEST(k->status == 200);
  BOOST_TEST(!k->has_header("X-Rate-Limit-Remaining-Day"));
  BOOST_TEST(fake().quota().used_day == 4);
}

BOOST_AUTO_TEST_CASE(retry_after_only_when_asked_for) {
  matchsync::test::quota_limits l;
  l.per_minute = 1;
  l.retry_after_s = 9;
  for (int run = 0; run < 3; ++run) {
    fake().set_limits(l);
    auto before = clock_minute();
    get("/api/players/3/matches");
    auto r = get("/api/players/3/matches");
    if (clock_minute() != before)
      continue;
    BOOST_TEST(r->status == 429);
    BOOST_TEST(r->get_header_value("Retry-After") == "9");
    return;
  }
  BOOST_FAIL("three runs straddled a clock minute");
}

BOOST_AUTO_TEST_CASE(api_key_must_be_a_uuid_and_a_revoked_one_answers_400) {
  auto bad = get("/api/players/3/matches?api_key=not-a-key");
  BOOST_TEST(bad->status == 400);
  BOOST_TEST(bad->body == R"({"error":"Invalid API key format"})");
  httplib::Client cli("127.0.0.1", fake().port());
  auto bearer = cli.Get("/api/players/3/matches", {{"Authorization", "Bearer 1234"}});
  BOOST_TEST(bearer->status == 400);
  matchsync::test::quota_limits l;
  l.revoked_keys = {"0b4c1e2a-8d3f-4a6b-9c7d-1e2f3a4b5c6d"};
  fake().set_limits(l);
  auto revoked = get("/api/players/3/matches?api_key=0b4c1e2a-8d3f-4a6b-9c7d-1e2f3a4b5c6d");
  BOOST_TEST(revoked->status == 400);
  BOOST_TEST(revoked->body.find("API key invalid") != std::string::npos);
  BOOST_TEST(get("/api/players/3/matches?api_key=1b4c1e2a-8d3f-4a6b-9c7d-1e2f3a4b5c6d")->status == 200);
}

BOOST_AUTO_TEST_CASE(whole_history_without_limit_and_empty_past_the_end) {
  fake().set_history_size(7, 250);
  BOOST_TEST(get_json("/api/players/7/matches?significant=0").size() == 250u);
  BOOST_TEST(get_json("/api/players/7/matches?limit=100&offset=250").empty());
}

BOOST_AUTO_TEST_CASE(player_route_tells_unknown_private_and_normal_apart) {
  fake().set_history_size(8, 5);
  fake().set_account_kind(9, "private");
  fake().set_history_size(9, 5);
  fake().set_account_kind(10, "unknown");
  auto normal = get_json("/api/players/8");
  BOOST_TEST(normal["profile"]["account_id"] == 8);
  BOOST_TEST(normal["profile"]["fh_unavailable"] == false);
  auto hidden = get_json("/api/players/9");
  BOOST_TEST(hidden["profile"]["fh_unavailable"] == true);
  BOOST_TEST(get_json("/api/players/9/matches").empty());
  auto unknown = get("/api/players/10");
  BOOST_TEST(unknown->status == 404);
  BOOST_TEST(unknown->body == R"({"error":"Not Found"})");
  BOOST_TEST(get_json("/api/players/10/matches").empty());
}

BOOST_AUTO_TEST_CASE(win_loss_counts_the_listed_history) {
  fake().set_history_size(11, 40);
  auto wl = get_json("/api/players/11/wl?significant=0");
  std::int64_t win = 0;
  for (auto& m : get_json("/api/players/11/matches"))
    win += (m["radiant_win"].get<bool>() == (m["player_slot"].get<int>() < 128)) ? 1 : 0;
  BOOST_TEST(wl["win"].get<std::int64_t>() == win);
  BOOST_TEST(wl["lose"].get<std::int64_t>() == 40 - win);
}

BOOST_AUTO_TEST_SUITE_END()
