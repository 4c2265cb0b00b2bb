// The demo upstream: deterministic, realistic, growing history; goes through
// the rate budget; latency that a cancel interrupts.
#define BOOST_TEST_MODULE demo
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "test/support/process.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/demo_client.hpp"
#include "upstream/demo_data.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync::upstream;
using namespace std::chrono_literals;

namespace {

// Grants every request at once and counts them.
struct counting_budget final : rate_budget {
  bool acquire(cancel_token& token) override {
    ++granted;
    return !token.cancelled();
  }
  std::atomic<int> granted{0};
};

demo_options fast() {
  demo_options o;
  o.latency_min = 0ms;
  o.latency_max = 0ms;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(demo_suite)

BOOST_AUTO_TEST_CASE(every_account_has_at_least_200_matches) {
  for (std::int64_t account : {0LL, 1LL, 99LL, 86745912LL, 4294967295LL}) {
    BOOST_TEST(demo::base_history_size(account) >= 200);
    BOOST_TEST(demo::base_history_size(account) < 400);
  }
  BOOST_TEST(demo::base_history_size(7) == 307);
}

BOOST_AUTO_TEST_CASE(one_new_match_appears_per_interval) {
  BOOST_TEST(demo::history_size(7, 0ms, 2min) == 307);
  BOOST_TEST(demo::history_size(7, 119s, 2min) == 307);
  BOOST_TEST(demo::history_size(7, 120s, 2min) == 308);
  BOOST_TEST(demo::history_size(7, 10min, 2min) == 312);
  BOOST_TEST(demo::history_size(7, 10min, 0ms) == 307);
}

BOOST_AUTO_TEST_CASE(history_is_newest_first_with_ids_unique_across_accounts) {
  std::set<std::int64_t> seen;
  for (std::int64_t account : {1LL, 2LL, 86745912LL}) {
    auto size = demo::base_history_size(account);
    auto all = demo::page(account, size, 1000, 0);
    BOOST_TEST_REQUIRE(all.size() == static_cast<std::size_t>(size));
    for (std::size_t i = 0; i < all.size(); ++i) {
      auto id = all[i]["match_id"].get<std::int64_t>();
      BOOST_TEST(seen.insert(id).second);
      if (i > 0) {
        BOOST_TEST(all[i - 1]["match_id"].get<std::int64_t>() > id);
        BOOST_TEST(all[i - 1]["start_time"].get<std::int64_t>() >
                   all[i]["start_time"].get<std::int64_t>());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(summaries_carry_the_fields_of_the_spec) {
  auto s = demo::summary(86745912, 5);
  for (const char* field :
       {"match_id", "player_slot", "radiant_win", "duration", "game_mode",
        "lobby_type", "hero_id", "start_time", "kills", "deaths", "assists"})
    BOOST_TEST(s.contains(field), field);
  auto slot = s["player_slot"].get<int>();
  BOOST_TEST(((slot >= 0 && slot <= 4) || (slot >= 128 && slot <= 132)));
  BOOST_TEST(s["hero_id"].get<int>() >= 1);
  BOOST_TEST(s["duration"].get<int>() >= 900);
}

BOOST_AUTO_TEST_CASE(data_is_deterministic) {
  BOOST_TEST(demo::summary(42, 17) == demo::summary(42, 17));
  BOOST_TEST(demo::detail(42, 17) == demo::detail(42, 17));
  BOOST_TEST(demo::summary(42, 17) != demo::summary(42, 18));
  BOOST_TEST(demo::summary(42, 17) != demo::summary(43, 17));
}

BOOST_AUTO_TEST_CASE(details_are_a_few_kb_and_agree_with_the_summary) {
  auto s = demo::summary(86745912, 100);
  auto d = demo::detail(86745912, 100);
  auto text = d.dump();
  BOOST_TEST(text.size() > 2000u);
  BOOST_TEST(text.size() < 20000u);
  BOOST_TEST(d["match_id"] == s["match_id"]);
  BOOST_TEST(d["radiant_win"] == s["radiant_win"]);
  BOOST_TEST_REQUIRE(d["players"].size() == 10u);
  int mine = 0;
  for (const auto& p : d["players"]) {
    if (p["account_id"] == 86745912) {
      ++mine;
      BOOST_TEST(p["player_slot"] == s["player_slot"]);
      BOOST_TEST(p["hero_id"] == s["hero_id"]);
      BOOST_TEST(p["kills"] == s["kills"]);
      BOOST_TEST(p["deaths"] == s["deaths"]);
      BOOST_TEST(p["assists"] == s["assists"]);
    }
  }
  BOOST_TEST(mine == 1);
}

BOOST_AUTO_TEST_CASE(match_ids_lead_back_to_their_account_and_index) {
  auto id = demo::match_id(86745912, 250);
  auto owner = demo::owner_of(id);
  BOOST_TEST_REQUIRE(owner.has_value());
  BOOST_TEST(owner->account_id == 86745912);
  BOOST_TEST(owner->index == 250);
  BOOST_TEST(!demo::owner_of(12345).has_value());
}

BOOST_AUTO_TEST_CASE(pages_split_the_history_without_overlap) {
  auto all = demo::page(9, 309, 1000, 0);
  auto p0 = demo::page(9, 309, 100, 0);
  auto p3 = demo::page(9, 309, 100, 300);
  BOOST_TEST(p0.size() == 100u);
  BOOST_TEST(p3.size() == 9u);
  BOOST_TEST(p0[0] == all[0]);
  BOOST_TEST(p3[8] == all[308]);
  BOOST_TEST(demo::page(9, 309, 100, 400).empty());
}


BOOST_AUTO_TEST_CASE(every_call_takes_a_budget_slot) {
  counting_budget budget;
  demo_client demo(budget, fast());
  cancel_token token;
  auto page = demo.list_matches(5, 100, 0, token);
  BOOST_TEST((page.kind == result_kind::ok));
  BOOST_TEST(page.data.size() == 100u);
  auto detail = demo.match_detail(page.data[0]["match_id"], token);
  BOOST_TEST((detail.kind == result_kind::ok));
  BOOST_TEST(nlohmann::json::parse(detail.text)["match_id"] == page.data[0]["match_id"]);
  BOOST_TEST(budget.granted == 2);
  BOOST_TEST(detail.stats.requests == 1);
  BOOST_TEST(detail.stats.statuses == std::vector<int>{200});
}

BOOST_AUTO_TEST_CASE(unknown_matches_have_no_details) {
  counting_budget budget;
  demo_client demo(budget, fast());
  cancel_token token;
  auto future = demo.match_detail(demo::match_id(5, 5000), token);
  BOOST_TEST((future.kind == result_kind::not_found));
  BOOST_TEST((demo.match_detail(77, token).kind == result_kind::not_found));
}

BOOST_AUTO_TEST_CASE(new_matches_appear_as_time_passes) {
  counting_budget budget;
  auto options = fast();
  options.started_at = std::chrono::steady_clock::now() - 10min;
  demo_client demo(budget, options);
  cancel_token token;
  auto all = demo.list_matches(7, 1000, 0, token);
  BOOST_TEST(all.data.size() == 312u);
  BOOST_TEST(all.data[0]["match_id"].get<std::int64_t>() ==
             demo::match_id(7, 311));
}

BOOST_AUTO_TEST_CASE(latency_is_realistic_by_default) {
  counting_budget budget;
  demo_client demo(budget);
  cancel_token token;
  auto start = std::chrono::steady_clock::now();
  demo.list_matches(7, 10, 0, token);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - start);
  BOOST_TEST(took.count() >= 80);
}

BOOST_AUTO_TEST_CASE(cancel_interrupts_the_latency) {
  counting_budget budget;
  auto options = fast();
  options.latency_min = options.latency_max = 10s;
  demo_client demo(budget, options);
  cancel_token token;
  detail_result result;
  // Returns once the call sleeps in its 10 s latency.
  auto call = matchsync::test::start_blocked(
    [&] { result = demo.match_detail(demo::match_id(7, 1), token); });
  auto cancelled_at = std::chrono::steady_clock::now();
  token.cancel();
  call.join();
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - cancelled_at);
  BOOST_TEST((result.kind == result_kind::cancelled));
  // Not a speed target (this suite runs under TSan too): not the 10 s.
  BOOST_TEST(took.count() < 5000);
}

BOOST_AUTO_TEST_CASE(a_cancelled_budget_wait_makes_no_request) {
  local_rate_budget budget(1);
  cancel_token first;
  BOOST_TEST_REQUIRE(budget.acquire(first));
  demo_client demo(budget, fast());
  cancel_token token;
  list_result result;
  // Returns once the call sleeps in the budget's wait (the one slot taken).
  auto call = matchsync::test::start_blocked([&] { result = demo.list_matches(7, 10, 0, token); });
  token.cancel();
  call.join();
  BOOST_TEST((result.kind == result_kind::cancelled));
  BOOST_TEST(result.stats.requests == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// SPEC §2: the demo's requests go through the daily quota too.
BOOST_AUTO_TEST_SUITE(demo_daily_quota)

namespace {
struct two_a_day final : daily_quota {
  std::optional<std::chrono::system_clock::duration> take() override {
    if (taken >= 2)
      return std::chrono::hours(24);
    ++taken;
    return std::nullopt;
  }
  std::chrono::system_clock::duration spent() override { return std::chrono::hours(24); }
  quota_usage usage() override { return {taken, 2}; }
  int taken = 0;
};
}  // namespace

BOOST_AUTO_TEST_CASE(a_spent_day_is_a_daily_limit_with_its_resume_time_and_no_request) {
  counting_budget budget;
  auto day = std::make_shared<two_a_day>();
  budget.set_daily(day);
  demo_client demo(budget, fast());
  cancel_token token;
  BOOST_TEST((demo.list_matches(5, 10, 0, token).kind == result_kind::ok));
  BOOST_TEST((demo.account(5, token).kind == result_kind::ok));
  auto refused = demo.match_detail(5, token);
  BOOST_TEST((refused.kind == result_kind::daily_limit));
  BOOST_TEST((refused.resume_at == std::chrono::system_clock::duration(std::chrono::hours(24))));
  BOOST_TEST(budget.granted == 2);
}

BOOST_AUTO_TEST_CASE(a_limit_below_one_lists_the_whole_history) {
  counting_budget budget;
  demo_client demo(budget, fast());
  cancel_token token;
  auto all = demo.list_matches(5, 0, 0, token);
  auto pages = demo.list_matches(5, 100000, 0, token);
  BOOST_TEST(all.data.size() >= 200u);
  BOOST_TEST(all.data == pages.data);
}

BOOST_AUTO_TEST_SUITE_END()
