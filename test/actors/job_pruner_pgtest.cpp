// Job retention end to end: the pruner actor, the control pool, the job
// store's DELETE on a real PostgreSQL, and the /metrics counter.
#define BOOST_TEST_MODULE job_pruner
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <pqxx/pqxx>

#include "actors/blocking_pool.hpp"
#include "actors/job_pruner.hpp"
#include "actors/messages.hpp"
#include "metrics/metrics.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/support/pg_fixture.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

std::int64_t count(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<std::int64_t>();
}

// 1,000 terminal jobs that ended 100 to 119 days (and an hour) ago and 10 that ended
// yesterday, spread over the three terminal states; one pending and one
// running job created 200 days ago (active: never pruned, however old);
// and 50 matches of the same account.
void seed(pqxx::connection& c) {
  auto a = db::user_store(c).ensure(111).id;
  auto b = db::user_store(c).ensure(222).id;
  auto d = db::user_store(c).ensure(333).id;
  pqxx::work tx(c);
  tx.exec_params(
    "INSERT INTO sync_jobs (user_id, account_id, status, created_at, completed_at) "
    "SELECT $1, 111, (ARRAY['completed','failed','cancelled'])[1 + i % 3]::job_status, "
    "       now() - make_interval(days => 100 + i % 20, hours => 2), "
    "       now() - make_interval(days => 100 + i % 20, hours => 1) "
    "FROM generate_series(1, 1000) i", a);
  tx.exec_params(
    "INSERT INTO sync_jobs (user_id, account_id, status, created_at, completed_at) "
    "SELECT $1, 111, (ARRAY['completed','failed','cancelled'])[1 + i % 3]::job_status, "
    "       now() - interval '1 day 1 minute', now() - interval '1 day' "
    "FROM generate_series(1, 10) i", a);
  tx.exec_params("INSERT INTO sync_jobs (user_id, account_id, status, created_at) "
                 "VALUES ($1, 222, 'pending', now() - interval '200 days')", b);
  // Even with an old completed_at (no transition leaves one on an active
  // job today), the status alone keeps it.
  tx.exec_params("INSERT INTO sync_jobs (user_id, account_id, status, node, attempt, "
                 "  lease_expires_at, created_at, started_at, completed_at) "
                 "VALUES ($1, 333, 'running', 'n1', 1, now() + interval '1 hour', "
                 "  now() - interval '200 days', now() - interval '200 days', "
                 "  now() - interval '199 days')", d);
  tx.exec("INSERT INTO matches (account_id, match_id, summary, updated_at) "
          "SELECT 111, i, '{}'::jsonb, now() - interval '300 days' "
          "FROM generate_series(1, 50) i");
  tx.commit();
}

struct pruner_fixture {
  explicit pruner_fixture(const std::string& db, retention::policy p)
    : url(test::fresh_database(db)), conn(url), system(actor_config()),
      control("control", 2, url), stats(std::make_shared<metrics>()) {
    seed(conn);
    // The jobs gauge's counts, as serve loads them at start.
    auto census = db::job_store(conn).count_jobs();
    stats->jobs().load(census.totals, census.active);
    // The first scheduled pass far away: the test runs its own.
    pruner = spawn_job_pruner(system, p, control, stats.get(), std::chrono::hours(1));
  }
  ~pruner_fixture() {
    caf::anon_send(pruner, shutdown_atom::value);
    control.stop();
  }
  int pass() {
    caf::scoped_actor self{system};
    int deleted = -1;
    self->request(pruner, 60s, run_atom::value)
      .receive([&](int n) { deleted = n; },
               [&](caf::error& e) { BOOST_FAIL("pruner: " << system.render(e)); });
    return deleted;
  }
  std::string url;
  pqxx::connection conn;
  caf::actor_system system;
  blocking_pool control;
  std::shared_ptr<metrics> stats;
  caf::actor pruner;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(job_pruner)

BOOST_AUTO_TEST_CASE(a_pass_deletes_old_terminal_jobs_only_in_small_batches) {
  retention::policy p;  // 90 days
  p.batch_size = 300;
  pruner_fixture f("pruner_pass", p);
  BOOST_TEST(f.pass() == 1000);
  // Left: the 10 recent terminal jobs and both active ones, however old.
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs") == 12);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs WHERE status IN "
                           "('completed','failed','cancelled') "
                           "AND completed_at > now() - interval '2 days'") == 10);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs WHERE status = 'pending'") == 1);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs WHERE status = 'running'") == 1);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM matches") == 50);
  auto text = f.stats->serialize();
  BOOST_TEST(text.find("matchsync_jobs_pruned_total 1000") != std::string::npos, text);
  // The jobs gauge lost the deleted rows, by type and status, with no scan:
  // it agrees with the table.
  for (auto& c : f.stats->jobs().snapshot())
    BOOST_TEST(c.n == count(f.conn, std::string("SELECT count(*) FROM sync_jobs WHERE "
                                                "job_type = '") + to_string(c.type) +
                                      "' AND status = '" + to_string(c.status) + "'"),
               to_string(c.type) << "/" << to_string(c.status));
  BOOST_TEST(f.stats->jobs().snapshot().size() == 10u);
  // A second pass finds nothing more.
  BOOST_TEST(f.pass() == 0);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs") == 12);
}

BOOST_AUTO_TEST_CASE(a_pass_stops_at_its_batch_budget_and_the_next_goes_on) {
  retention::policy p;
  p.batch_size = 100;
  p.max_batches = 4;
  pruner_fixture f("pruner_budget", p);
  BOOST_TEST(f.pass() == 400);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs") == 1012 - 400);
  BOOST_TEST(f.pass() == 400);
  BOOST_TEST(f.pass() == 200);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs") == 12);
}

BOOST_AUTO_TEST_CASE(zero_days_keeps_every_job) {
  retention::policy p;
  p.days = 0;
  pruner_fixture f("pruner_keep", p);
  BOOST_TEST(f.pass() == 0);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs") == 1012);
}

BOOST_AUTO_TEST_CASE(jobs_younger_than_the_retention_stay) {
  retention::policy p;
  p.days = 110;  // half of the old ones are older than this
  pruner_fixture f("pruner_days", p);
  BOOST_TEST(f.pass() == 500);  // ended 110..119 days and an hour ago
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs WHERE status IN "
                           "('completed','failed','cancelled') AND completed_at < "
                           "now() - interval '110 days'") == 0);
  BOOST_TEST(count(f.conn, "SELECT count(*) FROM sync_jobs") == 1012 - 500);
}

BOOST_AUTO_TEST_SUITE_END()
