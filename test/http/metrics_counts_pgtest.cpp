// /metrics' jobs gauge comes from the coordinator's own counts: a scrape
// asks nothing of sync_jobs (it answers while the table is locked, and uses
// the database once, for the day's quota row), and the gauge follows real
// jobs through pending, running, cancelled, completed and failed, and a
// final row that no node reported.
#define BOOST_TEST_MODULE metrics_counts
#include <boost/test/unit_test.hpp>

#include <future>
#include <pqxx/pqxx>
#include <regex>

#include "persistence/user_store.hpp"
#include "test/http/api_harness.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace matchsync::test;
using namespace std::chrono_literals;

namespace {

// The matchsync_jobs sample of (type, status) in `text`; -1 when absent.
long gauge(const std::string& text, const std::string& type, const std::string& status) {
  std::smatch m;
  std::regex series("\nmatchsync_jobs\\{status=\"" + status + "\",type=\"" + type +
                    "\"\\} (\\d+)");
  if (!std::regex_search(text, m, series))
    return -1;
  return std::stol(m[1]);
}

long scraped(int port, const std::string& type, const std::string& status) {
  auto r = client(port).get("/metrics");
  return r.status == 200 ? gauge(r.body, type, status) : -1;
}

long in_table(const std::string& url, const std::string& type, const std::string& status) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  return tx.exec_params1("SELECT count(*) FROM sync_jobs WHERE job_type = $1::job_type "
                         "AND status = $2::job_status", type, status)[0].as<long>();
}

const std::vector<std::string> types{"incremental_sync", "full_sync"};
const std::vector<std::string> statuses{"pending", "running", "completed", "failed",
                                        "cancelled"};

std::int64_t trigger(int port, const test_user& u, const std::string& type) {
  auto r = client(port, u.token).post("/sync/trigger", R"({"job_type": ")" + type + "\"}");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.status << " " << r.body);
  return r.json()["id"].get<std::int64_t>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_scrape_reads_no_job_row_and_the_gauges_follow_real_jobs) {
  api_harness::options o;
  o.database = "http_metrics_counts";
  api_harness node(o);
  auto port = node.port();
  auto text = client(port).get("/metrics").body;
  for (auto& t : types)
    for (auto& s : statuses)
      BOOST_TEST(gauge(text, t, s) == 0, t << "/" << s);

  // A long incremental (999 matches at 25 ms): running, then cancelled. The
  // coordinator counts the cancel before it answers it.
  auto slow = node.add_user(10999);
  auto slow_id = trigger(port, slow, "incremental_sync");
  BOOST_TEST(wait_until([&] { return scraped(port, "incremental_sync", "running") == 1; }, 10s));
  BOOST_TEST(scraped(port, "incremental_sync", "pending") == 0);
  auto c = client(port, slow.token).post("/sync/cancel/" + std::to_string(slow_id));
  BOOST_REQUIRE_EQUAL(c.status, 200);
  text = client(port).get("/metrics").body;
  BOOST_TEST(gauge(text, "incremental_sync", "cancelled") == 1);
  BOOST_TEST(gauge(text, "incremental_sync", "running") == 0);

  // A short full sync completes; an account OpenDota does not know fails.
  auto done = node.add_user(1003);
  auto done_id = trigger(port, done, "full_sync");
  BOOST_TEST(node.wait_terminal(done, done_id, 30s)["status"] == "completed");
  BOOST_TEST(wait_until([&] { return scraped(port, "full_sync", "completed") == 1; }, 10s));
  node.upstream().set_account_kind(4004, "unknown");
  auto lost = node.add_user(4004);
  auto lost_id = trigger(port, lost, "incremental_sync");
  BOOST_TEST(node.wait_terminal(lost, lost_id, 30s)["status"] == "failed");
  BOOST_TEST(wait_until([&] { return scraped(port, "incremental_sync", "failed") == 1; }, 10s));

  // Every pair agrees with the table.
  text = client(port).get("/metrics").body;
  for (auto& t : types)
    for (auto& s : statuses)
      BOOST_TEST(gauge(text, t, s) == in_table(node.cfg().database_url, t, s), t << "/" << s);

  // One database use a scrape: the day's quota row, never the jobs.
  auto before = node.node().server().database_reads();
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE_EQUAL(client(port).get("/metrics").status, 200);
  BOOST_TEST(node.node().server().database_reads() - before == 20);

  // With sync_jobs locked against every reader, a scrape still answers,
  // with the same counts (a scan would wait for the lock).
  pqxx::connection locker(node.cfg().database_url);
  pqxx::work tx(locker);
  tx.exec("LOCK TABLE sync_jobs IN ACCESS EXCLUSIVE MODE");
  auto scrape = std::async(std::launch::async, [port] { return client(port).get("/metrics"); });
  bool answered = scrape.wait_for(10s) == std::future_status::ready;
  tx.abort();
  BOOST_TEST(answered);
  auto r = scrape.get();
  BOOST_TEST(r.status == 200);
  BOOST_TEST(gauge(r.body, "full_sync", "completed") == 1);
  BOOST_TEST(gauge(r.body, "incremental_sync", "cancelled") == 1);
}

// A worker wrote its job's final row and its report was lost (its link
// broke, or this coordinator was down): the counts, loaded at start with
// the job running, read the row back by id because no node runs it.
BOOST_AUTO_TEST_CASE(a_final_row_no_node_reported_is_read_back) {
  api_harness::options o;
  o.database = "http_metrics_unreported";
  o.before_start = [](const std::string& url) {
    pqxx::connection c(url);
    auto u = db::user_store(c).ensure(5005).id;
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO sync_jobs (user_id, account_id, job_type, status, node, "
                   "  attempt, lease_expires_at, started_at) "
                   "VALUES ($1, 5005, 'full_sync', 'running', 'gone-worker', 1, "
                   "  now() + interval '1 hour', now())", u);
    tx.exec_params("INSERT INTO sync_jobs (user_id, account_id, job_type, status, "
                   "  completed_at) VALUES ($1, 5005, 'full_sync', 'completed', now())", u);
    tx.commit();
  };
  api_harness node(o);
  auto port = node.port();
  BOOST_TEST(scraped(port, "full_sync", "running") == 1);
  BOOST_TEST(scraped(port, "full_sync", "completed") == 1);
  {
    pqxx::connection c(node.cfg().database_url);
    pqxx::work tx(c);
    tx.exec("UPDATE sync_jobs SET status = 'completed', phase = NULL, completed_at = now() "
            "WHERE status = 'running'");
    tx.commit();
  }
  // Within a reclaim round (a third of the 15 s lease).
  BOOST_TEST(wait_until([&] { return scraped(port, "full_sync", "completed") == 2; }, 20s));
  BOOST_TEST(scraped(port, "full_sync", "running") == 0);
}
