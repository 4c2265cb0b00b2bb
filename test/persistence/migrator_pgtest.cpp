#define BOOST_TEST_MODULE migrator
#include <boost/test/unit_test.hpp>

#include <thread>

#include <pqxx/pqxx>

#include "core/errors.hpp"
#include "persistence/job_store.hpp"
#include "persistence/match_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/user_store.hpp"
#include "test/support/pg_fixture.hpp"

using namespace matchsync;

namespace {
int recorded(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>();
}
}  // namespace

BOOST_AUTO_TEST_SUITE(migrator)

BOOST_AUTO_TEST_CASE(a_second_migrate_is_a_no_op) {
  auto url = test::fresh_database("mig_noop", 0);
  pqxx::connection c(url);
  db::migrator m;
  auto first = m.apply(c);
  BOOST_TEST(first.size() == db::embedded_migrations().size());
  BOOST_TEST(m.apply(c).empty());
  BOOST_TEST(recorded(c) == static_cast<int>(first.size()));
  auto st = m.status(c);
  BOOST_TEST(st.pending.empty());
  BOOST_TEST(st.applied.size() == first.size());
}

BOOST_AUTO_TEST_CASE(status_lists_pending_and_require_current_names_migrate) {
  auto url = test::fresh_database("mig_status", 1);
  pqxx::connection c(url);
  db::migrator m;
  auto st = m.status(c);
  BOOST_TEST(st.applied.size() == 1u);
  BOOST_TEST(st.pending.size() == db::embedded_migrations().size() - 1);
  BOOST_TEST(st.pending.front() == "002_add_cancelled_status.sql");
  try {
    m.require_current(c);
    BOOST_FAIL("a pending migration must be refused");
  } catch (const domain_error& e) {
    BOOST_TEST(e.code() == errc::schema_outdated);
    BOOST_TEST(std::string(e.what()).find("matchsync migrate") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_cancelled_status_arrives_on_an_existing_schema) {
  auto url = test::fresh_database("mig_cancelled", 1);
  pqxx::connection c(url);
  // Rows written under the first schema, as a deployed system has them.
  // (Plain SQL: today's job store reads columns of later migrations.)
  auto u = db::user_store(c).create(11, std::string("old"), "hash-old");
  std::int64_t done_id = 0, pending_id = 0;
  {
    pqxx::work tx(c);
    done_id = tx.exec_params1("INSERT INTO sync_jobs (user_id, account_id, job_type, status) "
                              "VALUES ($1, 11, 'full_sync', 'completed') RETURNING id",
                              u.id)[0].as<std::int64_t>();
    pending_id = tx.exec_params1("INSERT INTO sync_jobs (user_id, account_id, job_type) "
                                 "VALUES ($1, 11, 'incremental_sync') RETURNING id",
                                 u.id)[0].as<std::int64_t>();
    tx.commit();
  }
  // Before 002 the value does not exist.
  {
    pqxx::work tx(c);
    BOOST_CHECK_THROW(tx.exec("UPDATE sync_jobs SET status = 'cancelled'"), pqxx::sql_error);
  }

  // Every later migration (002 on) applies to the rows of the first schema.
  BOOST_TEST(db::migrator().apply(c).size() == db::embedded_migrations().size() - 1);
  db::job_store jobs(c);
  auto cancelled = jobs.cancel_pending(pending_id);
  BOOST_REQUIRE(cancelled);
  BOOST_TEST(cancelled->status == job_status::cancelled);
  BOOST_TEST(jobs.find(done_id)->status == job_status::completed);
}

// 006 on a deployed history: details already stored count as fetched with
// the version their row lists, so only a parse seen later re-fetches them.
BOOST_AUTO_TEST_CASE(details_stored_before_006_keep_the_version_they_were_listed_with) {
  auto url = test::fresh_database("mig_details_version", 5);
  pqxx::connection c(url);
  {
    pqxx::work tx(c);
    tx.exec("INSERT INTO matches (account_id, match_id, summary, details, details_state) VALUES "
            "(7, 1, '{\"match_id\":1,\"version\":21}', '{\"v\":1}', 'fetched'), "
            "(7, 2, '{\"match_id\":2,\"version\":null}', '{\"v\":1}', 'fetched'), "
            "(7, 3, '{\"match_id\":3,\"version\":null}', NULL, 'missing')");
    tx.commit();
  }
  BOOST_TEST(db::migrator().apply(c).size() == db::embedded_migrations().size() - 5);
  auto page = R"([{"match_id":1,"version":21,"kills":1},{"match_id":2,"version":21},)"
              R"({"match_id":3,"version":21}])";
  {
    pqxx::work tx(c);
    db::match_store::upsert_summaries(tx, 7, 1, page);
    tx.commit();
  }
  pqxx::nontransaction tx(c);
  std::vector<std::string> states;
  for (auto row : tx.exec("SELECT details_state FROM matches ORDER BY match_id"))
    states.push_back(row[0].as<std::string>());
  BOOST_TEST(states == (std::vector<std::string>{"fetched", "stale", "missing"}),
             boost::test_tools::per_element());
}

// 008 on a deployed history: details move into match_details, once per
// match (where two accounts held different ones, the parsed), and what the
// API serves of them stays the same, byte for byte.
BOOST_AUTO_TEST_CASE(details_stored_before_008_are_kept_once_per_match_and_served_the_same) {
  auto url = test::fresh_database("mig_shared_details", 7);
  pqxx::connection c(url);
  auto served = [&](const char* sql) {
    pqxx::nontransaction tx(c);
    return tx.exec(sql)[0][0].as<std::string>();
  };
  {
    pqxx::work tx(c);
    tx.exec(R"sql(
      INSERT INTO matches (account_id, match_id, summary, details, details_state,
                           details_fingerprint, details_version) VALUES
      (7, 1, '{"match_id":1,"version":21}',
       '{"b": [1, 2.50, "\u00e9\ud83d\ude00", 12345678901234567890], "a": {"z": null}}',
       'fetched', 11, '21'),
      (8, 1, '{"match_id":1,"version":null}', '{"old": true}', 'fetched', 12, 'null'),
      (7, 2, '{"match_id":2,"version":null}', '{"v":   2}', 'fetched', NULL, 'null'),
      (7, 3, '{"match_id":3}', NULL, 'missing', NULL, NULL))sql");
    tx.commit();
  }
  auto one = served("SELECT details::text FROM matches WHERE account_id = 7 AND match_id = 1");
  auto two = served("SELECT details::text FROM matches WHERE account_id = 7 AND match_id = 2");
  BOOST_TEST(db::migrator().apply(c).size() == db::embedded_migrations().size() - 7);
  db::match_store store(c);
  BOOST_TEST(*store.get(7, 1)->details_json == one);
  BOOST_TEST(*store.get(8, 1)->details_json == one);
  BOOST_TEST(*store.get(7, 2)->details_json == two);
  BOOST_TEST(!store.get(7, 3)->details_json.has_value());
  BOOST_TEST(served("SELECT count(*)::text FROM match_details") == "2");
  BOOST_TEST(served("SELECT fingerprint::text FROM match_details WHERE match_id = 1") == "11");
  BOOST_TEST(served("SELECT version::text FROM match_details WHERE match_id = 1") == "21");
}

BOOST_AUTO_TEST_CASE(an_edited_applied_migration_is_an_error_naming_the_file) {
  auto url = test::fresh_database("mig_edited", 0);
  pqxx::connection c(url);
  std::vector<db::migration> v1{{"001_a.sql", "CREATE TABLE a (x int);"}};
  db::migrator(v1).apply(c);
  std::vector<db::migration> v2{{"001_a.sql", "CREATE TABLE a (x bigint);"}};
  try {
    db::migrator(v2).apply(c);
    BOOST_FAIL("an edited migration must be refused");
  } catch (const domain_error& e) {
    BOOST_TEST(std::string(e.what()).find("001_a.sql") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_failing_migration_is_rolled_back_and_named) {
  auto url = test::fresh_database("mig_failing", 0);
  pqxx::connection c(url);
  std::vector<db::migration> v{{"001_ok.sql", "CREATE TABLE ok (x int);"},
                               {"002_bad.sql", "CREATE TABLE bad (x int); SELEC 1;"}};
  try {
    db::migrator(v).apply(c);
    BOOST_FAIL("a broken migration must fail");
  } catch (const domain_error& e) {
    BOOST_TEST(std::string(e.what()).find("002_bad.sql") != std::string::npos);
  }
  pqxx::nontransaction tx(c);
  BOOST_TEST(tx.exec1("SELECT to_regclass('bad') IS NULL")[0].as<bool>());
  BOOST_TEST(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<int>() == 1);
}

BOOST_AUTO_TEST_CASE(two_concurrent_migrators_apply_each_file_once) {
  auto url = test::fresh_database("mig_concurrent", 0);
  std::vector<std::string> a, b;
  std::thread t1([&] { pqxx::connection c(url); a = db::migrator().apply(c); });
  std::thread t2([&] { pqxx::connection c(url); b = db::migrator().apply(c); });
  t1.join();
  t2.join();
  BOOST_TEST(a.size() + b.size() == db::embedded_migrations().size());
  pqxx::connection c(url);
  BOOST_TEST(recorded(c) == static_cast<int>(db::embedded_migrations().size()));
}

BOOST_AUTO_TEST_SUITE_END()
