#define BOOST_TEST_MODULE match_store
#include <boost/test/unit_test.hpp>

#include <pqxx/pqxx>

#include "persistence/match_store.hpp"
#include "persistence/sync_state_store.hpp"
#include "test/support/pg_fixture.hpp"

using namespace matchsync;

namespace {

std::string item(std::int64_t id, int kills, bool radiant_win = true, int slot = 0) {
  return "{\"match_id\":" + std::to_string(id) + ",\"player_slot\":" +
         std::to_string(slot) + ",\"radiant_win\":" + (radiant_win ? "true" : "false") +
         ",\"duration\":1800,\"game_mode\":22,\"lobby_type\":7,\"hero_id\":5,"
         "\"start_time\":1700000000,\"kills\":" + std::to_string(kills) +
         ",\"deaths\":2,\"assists\":3,\"extra_field\":\"kept\"}";
}

struct fixture {
  fixture() : url(test::fresh_database("match_store")), conn(url), matches(conn) {}

  db::upsert_counts upsert(std::int64_t job, const std::string& items,
                           std::int64_t account = 7) {
    pqxx::work tx(conn);
    auto c = db::match_store::upsert_summaries(tx, account, job, items);
    tx.commit();
    return c;
  }

  std::int64_t store(std::int64_t job, const std::vector<db::detail_write>& batch,
                     std::int64_t account = 7) {
    pqxx::work tx(conn);
    auto updated = db::match_store::store_details(tx, account, job, batch);
    tx.commit();
    return updated;
  }

  bool detail(std::int64_t job, std::int64_t id, db::detail_outcome o,
              const std::string& json) {
    return store(job, {{id, o, json}}) == 1;
  }

  std::string state_of(std::int64_t id) {
    pqxx::nontransaction tx(conn);
    return tx.exec_params1("SELECT details_state FROM matches WHERE account_id = 7 "
                           "AND match_id = $1", id)[0].as<std::string>();
  }

  std::string url;
  pqxx::connection conn;
  db::match_store matches;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(match_store, fixture)

BOOST_AUTO_TEST_CASE(upserting_a_page_twice_inserts_once_and_updates_nothing) {
  auto page = "[" + item(3, 1) + "," + item(2, 1) + "," + item(1, 1) + "]";
  auto first = upsert(1, page);
  BOOST_TEST(first.inserted == 3);
  BOOST_TEST(first.updated == 0);
  auto again = upsert(1, page);
  BOOST_TEST(again.inserted == 0);
  BOOST_TEST(again.updated == 0);
  BOOST_TEST(matches.list(7, 10, 0).size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_changed_summary_counts_as_updated_and_keeps_unknown_fields) {
  upsert(1, "[" + item(5, 1) + "]");
  auto c = upsert(2, "[" + item(5, 9) + "]");
  BOOST_TEST(c.updated == 1);
  auto m = matches.get(7, 5);
  BOOST_REQUIRE(m);
  BOOST_TEST(*m->kills == 9);
  pqxx::nontransaction tx(conn);
  BOOST_TEST(tx.exec1("SELECT summary->>'extra_field' FROM matches WHERE match_id = 5")[0]
               .as<std::string>() == "kept");
}

BOOST_AUTO_TEST_CASE(details_updates_count_once_per_job) {
  upsert(1, "[" + item(5, 1) + "]");
  BOOST_TEST(!detail(1, 5, db::detail_outcome::fetched, "{\"v\":1}"));  // first fetch
  BOOST_TEST(matches.get(7, 5)->has_details);
  BOOST_TEST(!detail(2, 5, db::detail_outcome::fetched, "{\"v\":1}"));  // unchanged
  BOOST_TEST(detail(3, 5, db::detail_outcome::fetched, "{\"v\":2}"));   // changed
  BOOST_TEST(!detail(3, 5, db::detail_outcome::fetched, "{\"v\":3}"));  // same job again
  // The text as the upstream sent it (json, not re-encoded as jsonb).
  BOOST_TEST(*matches.get(7, 5)->details_json == "{\"v\":3}");
}

BOOST_AUTO_TEST_CASE(a_failed_detail_stays_lacking_and_a_404_does_not) {
  upsert(1, "[" + item(9, 1) + "," + item(8, 1) + "," + item(7, 1) + "]");
  detail(1, 9, db::detail_outcome::failed, "");
  detail(1, 8, db::detail_outcome::none, "");
  pqxx::work tx(conn);
  auto lacking = db::match_store::ids_below(tx, 7, std::nullopt, true, 10);
  BOOST_TEST(lacking == (std::vector<std::int64_t>{9, 7}));
  BOOST_TEST(db::match_store::count_below(tx, 7, std::nullopt, true) == 2);
  BOOST_TEST(db::match_store::count_below(tx, 7, 9, false) == 2);
  BOOST_TEST(db::match_store::ids_below(tx, 7, 9, false, 1) == (std::vector<std::int64_t>{8}));
}

// One statement stores a whole batch: each match gets its own outcome and
// detail, whatever its place in the batch, and updates count per match.
BOOST_AUTO_TEST_CASE(a_batch_stores_each_match_its_own_outcome) {
  upsert(1, "[" + item(6, 1) + "," + item(5, 1) + "," + item(4, 1) + "," + item(3, 1) + "]");
  BOOST_TEST(store(1, {{6, db::detail_outcome::fetched, R"({"v": 6})"},
                       {5, db::detail_outcome::fetched, R"({"v": 5})"}}) == 0);
  // Job 2: 6 changes, 5 is the same, 4 has none upstream, 3 failed.
  auto updated = store(2, {{3, db::detail_outcome::failed, ""},
                           {6, db::detail_outcome::fetched, R"({"v": 60})"},
                           {4, db::detail_outcome::none, ""},
                           {5, db::detail_outcome::fetched, R"({"v": 5})"}});
  BOOST_TEST(updated == 1);
  BOOST_TEST(*matches.get(7, 6)->details_json == R"({"v": 60})");
  BOOST_TEST(*matches.get(7, 5)->details_json == R"({"v": 5})");
  BOOST_TEST(state_of(4) == "none");
  BOOST_TEST(!matches.get(7, 4)->details_json.has_value());
  BOOST_TEST(state_of(3) == "failed");
  // A later failure keeps the details already fetched.
  BOOST_TEST(store(3, {{6, db::detail_outcome::failed, ""}}) == 0);
  BOOST_TEST(state_of(6) == "fetched");
  BOOST_TEST(*matches.get(7, 6)->details_json == R"({"v": 60})");
  // So does a later 404: the stored details stay, and say so (the match
  // never reads has_details false while it holds details).
  BOOST_TEST(store(4, {{6, db::detail_outcome::none, ""}}) == 0);
  BOOST_TEST(state_of(6) == "fetched");
  BOOST_TEST(*matches.get(7, 6)->details_json == R"({"v": 60})");
  BOOST_TEST(store(3, {}) == 0);
}

// With fingerprints (what OpenDota does not compute per request), a match
// counts as changed when its fingerprint does, whatever the details' text;
// details stored without one are compared as they are, once.
BOOST_AUTO_TEST_CASE(fingerprints_decide_what_counts_as_changed) {
  upsert(1, "[" + item(6, 1) + "," + item(5, 1) + "]");
  auto with = [](std::int64_t id, const char* json, std::int64_t fp) {
    return db::detail_write(id, db::detail_outcome::fetched, json, fp);
  };
  BOOST_TEST(store(1, {with(6, R"({"rank_tier": 1})", 100), {5, db::detail_outcome::fetched, R"({"v": 1})"}}) == 0);
  // Job 2: 6's text differs but not its fingerprint; 5 gets its first one,
  // compared by text (same).
  BOOST_TEST(store(2, {with(6, R"({"rank_tier": 2})", 100), with(5, R"({"v": 1})", 500)}) == 0);
  BOOST_TEST(*matches.get(7, 6)->details_json == R"({"rank_tier": 2})");  // the newest kept
  // Job 3: the same text, another fingerprint: changed.
  BOOST_TEST(store(3, {with(6, R"({"rank_tier": 2})", 101), with(5, R"({"v": 1})", 500)}) == 1);
  pqxx::nontransaction tx(conn);
  BOOST_TEST(tx.exec1("SELECT fingerprint FROM match_details WHERE match_id = 6")[0]
               .as<std::int64_t>() == 101);
}

// A listing that shows a parse version the stored details were not fetched
// with makes them stale: still shown, lacking for the next sync, kept
// through a failed re-fetch, fresh again once fetched.
BOOST_AUTO_TEST_CASE(a_newly_listed_parse_version_makes_stored_details_stale) {
  auto with_version = [](std::int64_t id, const std::string& version) {
    auto s = item(id, 1);
    return "[" + s.substr(0, s.size() - 1) + ",\"version\":" + version + "}]";
  };
  upsert(1, with_version(5, "null"));
  upsert(1, with_version(4, "null"));
  store(1, {{5, db::detail_outcome::fetched, R"({"v": 1})"},
            {4, db::detail_outcome::fetched, R"({"v": 1})"}});
  BOOST_TEST(upsert(2, with_version(5, "null")).updated == 0);
  BOOST_TEST(state_of(5) == "fetched");
  BOOST_TEST(upsert(2, with_version(5, "21")).updated == 1);
  BOOST_TEST(state_of(5) == "stale");
  BOOST_TEST(state_of(4) == "fetched");
  BOOST_TEST(matches.get(7, 5)->has_details);
  {
    pqxx::work tx(conn);
    BOOST_TEST(db::match_store::ids_below(tx, 7, std::nullopt, true, 10) ==
               (std::vector<std::int64_t>{5}));
    BOOST_TEST(db::match_store::count_below(tx, 7, std::nullopt, true) == 1);
  }
  store(2, {{5, db::detail_outcome::failed, ""}});
  BOOST_TEST(state_of(5) == "stale");
  store(2, {{5, db::detail_outcome::fetched, R"({"v": 2})"}});
  BOOST_TEST(state_of(5) == "fetched");
  // Listed again with the version its details were fetched with: nothing to do.
  auto again = upsert(3, with_version(5, "21") + "");
  BOOST_TEST(again.updated == 0);
  BOOST_TEST(state_of(5) == "fetched");
  // A summary change that keeps the version (kills) does not make it stale.
  auto s = item(5, 9);
  upsert(4, "[" + s.substr(0, s.size() - 1) + ",\"version\":21}]");
  BOOST_TEST(state_of(5) == "fetched");
}

// SPEC §3, one fetch per match: details are stored once. Another account
// that lists the match takes them without a request, unless it lists a
// parse version they were not fetched with; a full sync does not fetch
// again what it took; a re-fetch for one account is what every one shows.
BOOST_AUTO_TEST_CASE(details_are_stored_once_and_taken_by_every_account_listing_the_match) {
  upsert(1, "[" + item(6, 1) + "," + item(5, 1) + "]");
  store(1, {{6, db::detail_outcome::fetched, R"({"v": 6})"},
            {5, db::detail_outcome::fetched, R"({"v": 5})"}});
  auto five = item(5, 2);
  upsert(2, "[" + item(6, 3, false, 130) + "," + five.substr(0, five.size() - 1) +
              ",\"version\":21}," + item(4, 1) + "]",
         8);
  {
    pqxx::work tx(conn);
    BOOST_TEST(db::match_store::adopt_shared_details(tx, 8, 2) ==
               (std::vector<std::int64_t>{6}));
    BOOST_TEST(db::match_store::adopt_shared_details(tx, 8, 2).empty());
    BOOST_TEST(db::match_store::ids_below(tx, 8, std::nullopt, true, 10) ==
               (std::vector<std::int64_t>{5, 4}));
    // The full sync that took 6 does not fetch it; another one does.
    BOOST_TEST(db::match_store::ids_below(tx, 8, std::nullopt, false, 10, 2) ==
               (std::vector<std::int64_t>{5, 4}));
    BOOST_TEST(db::match_store::count_below(tx, 8, std::nullopt, false, 2) == 2);
    BOOST_TEST(db::match_store::ids_below(tx, 8, std::nullopt, false, 10, 3) ==
               (std::vector<std::int64_t>{6, 5, 4}));
    tx.commit();
  }
  BOOST_TEST(*matches.get(8, 6)->details_json == R"({"v": 6})");
  BOOST_TEST(*matches.get(8, 6)->kills == 3);  // the listing's values stay per account
  BOOST_TEST(*matches.get(7, 6)->kills == 1);
  BOOST_TEST(!matches.get(8, 5)->details_json.has_value());  // not yet its version
  // Account 8 fetches 5 as parsed: account 7 shows those details too.
  BOOST_TEST(store(2, {{5, db::detail_outcome::fetched, R"({"v": 55})"}}, 8) == 0);
  BOOST_TEST(*matches.get(7, 5)->details_json == R"({"v": 55})");
  pqxx::nontransaction tx(conn);
  BOOST_TEST(tx.exec1("SELECT count(*) FROM match_details")[0].as<int>() == 2);
  BOOST_TEST(tx.exec1("SELECT version::text FROM match_details WHERE match_id = 5")[0]
               .as<std::string>() == "21");
}

// A step takes shared details only among its own window: it must not scan
// every row of the account still lacking details.
BOOST_AUTO_TEST_CASE(taking_shared_details_among_a_window_touches_only_the_window) {
  upsert(1, "[" + item(6, 1) + "," + item(5, 1) + "]");
  store(1, {{6, db::detail_outcome::fetched, R"({"v": 6})"},
            {5, db::detail_outcome::fetched, R"({"v": 5})"}});
  upsert(2, "[" + item(6, 1) + "," + item(5, 1) + "]", 8);
  pqxx::work tx(conn);
  std::vector<std::int64_t> window{5};
  BOOST_TEST(db::match_store::adopt_shared_details(tx, 8, 2, &window) ==
             (std::vector<std::int64_t>{5}));
  BOOST_TEST(db::match_store::ids_below(tx, 8, std::nullopt, true, 10) ==
             (std::vector<std::int64_t>{6}));
  BOOST_TEST(db::match_store::adopt_shared_details(tx, 8, 2) ==
             (std::vector<std::int64_t>{6}));
}

BOOST_AUTO_TEST_CASE(stats_count_wins_by_the_players_side) {
  // slot 0 is Radiant, 128 is Dire.
  upsert(1, "[" + item(4, 10, true, 0) + "," + item(3, 0, false, 0) + "," +
              item(2, 2, false, 128) + "]");
  auto s = matches.stats(7);
  BOOST_TEST(s.total_matches == 3);
  BOOST_TEST(s.wins == 2);
  BOOST_TEST(s.losses == 1);
  BOOST_TEST(s.avg_kills == 4.0);
}

BOOST_AUTO_TEST_CASE(complete_through_only_rises) {
  pqxx::work tx(conn);
  BOOST_TEST(!db::sync_state_store::complete_through(tx, 7).has_value());
  db::sync_state_store::raise_complete_through(tx, 7, 50);
  db::sync_state_store::raise_complete_through(tx, 7, 40);
  BOOST_TEST(*db::sync_state_store::complete_through(tx, 7) == 50);
}

BOOST_AUTO_TEST_SUITE_END()
