// serve's peak RSS during a full sync of real-size details (issue 16, item
// 5): a real `matchsync serve` syncs 1,000 matches from the fake OpenDota
// with OpenDota's own shapes (details of ~14 KB unparsed and ~248 KB parsed,
// 45 % parsed: 138 MB of details), and its VmHWM is read from /proc. The
// bound is generous for a loaded CI machine; the aim (64 MB) and the
// figures are bench_memory's (README, benchmarks).
#define BOOST_TEST_MODULE serve_memory
#include <boost/test/unit_test.hpp>

#include <csignal>

#include <pqxx/pqxx>

#include "test/fake_opendota/fake_server.hpp"
#include "test/fault/fault_harness.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"
#include "test/support/sanitizer.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

// Under a sanitizer no RSS bound holds (test/support/sanitizer.hpp), and
// parsing 140 MB of details under TSan takes longer than the test's time:
// the run there keeps what it can check (a real-size sync completes, every
// detail stored) with a fifth of the history.
constexpr long history = test::rss_is_meaningful ? 1000 : 200;

}  // namespace

BOOST_AUTO_TEST_SUITE(serve_memory)

// Seen failing with the serve of the commit before the fixes: 76 MB (77,792
// kB against the bound); with them 35 MB. bench_memory: 73-76 MB without
// bound_heap_retention alone.
BOOST_AUTO_TEST_CASE(a_full_sync_of_1000_real_size_matches_peaks_under_56_mb) {
  const std::int64_t account = 7001;
  const long bound_kb = 56 * 1024;
  auto db = test::fresh_database("serve_memory");
  test::fake_opendota fake;
  fake.set_real_shapes();
  fake.set_history_size(account, history);
  // Created before serve starts: its coordinator picks it up at once.
  auto job = test::fault::create_job(db, account, "full_sync");
  auto env = test::fault::node_env(db, fake.url(), "memory");
  env["MATCHSYNC_UPSTREAM_PAGE_SIZE"] = "100";  // the default
  env["MATCHSYNC_JOB_LEASE_S"] = "15";          // the default
  auto serve = test::fault::start_serve(env);
  BOOST_REQUIRE_MESSAGE(test::fault::wait_terminal(db, {job}, 300s),
                        "the sync did not end: " << serve.process->output());
  auto peak_kb = test::proc_status(serve.process->pid(), "VmHWM");
  auto row = test::fault::job_row(db, job);
  BOOST_TEST_REQUIRE(row["status"].get<std::string>() == "completed", row.dump());
  pqxx::connection c(db);
  pqxx::nontransaction tx(c);
  auto stored = tx.exec1("SELECT count(*), coalesce(sum(octet_length(details::text)), 0) "
                         "FROM matches JOIN match_details USING (match_id) "
                         "WHERE details_state = 'fetched'");
  BOOST_TEST(stored[0].as<long>() == history);
  // Real-size indeed: over 100 KB a match on average (100 MB for 1,000).
  BOOST_TEST(stored[1].as<long>() > history * 100'000);
  BOOST_TEST_MESSAGE("serve's peak RSS " << peak_kb / 1024.0 << " MB, details "
                                         << stored[1].as<long>() / 1e6 << " MB");
  BOOST_TEST_REQUIRE(peak_kb > 0);
  if (test::rss_is_meaningful)
    BOOST_TEST(peak_kb < bound_kb, "serve's peak RSS " << peak_kb << " kB, bound " << bound_kb);
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(30s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
