// bench_memory (issue 16, item 5): a real `matchsync serve` runs J full
// syncs of N matches at once against the fake OpenDota with OpenDota's own
// shapes (details of ~14 KB unparsed and ~248 KB parsed, 45 % parsed), and
// we read serve's peak RSS (VmHWM) from /proc. Aims: 64 MB for one job, 256
// MB for 16, whatever N.
//
//   bench_memory [--matches 1000] [--jobs 1] [--timeout-s 1800] [--stop-after-s S]
//                [--binary PATH]
//
// --binary runs another build's matchsync (the figures before a change).
// --stop-after-s ends the run after S seconds, the syncs unfinished (16 x
// 10,000 real-size matches are 22 GB of details): the figures then cover
// the listing and the details stored by then, which it reports.
// The jobs are created in the database before serve starts, so that its
// coordinator picks them all up at once (slots 16, the default).
#include <csignal>
#include <iostream>
#include <regex>
#include <thread>

#include <pqxx/pqxx>

#include "bench/support/bench_support.hpp"
#include "core/sync_job.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

const std::string name = "memory";

long count_of(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec1(sql)[0].as<long>();
}

}  // namespace

int main(int argc, char** argv) try {
  std::signal(SIGPIPE, SIG_IGN);
  bench::args a(argc, argv);
  auto matches = a.get_int("matches", 1000);
  auto jobs = a.get_int("jobs", 1);
  auto timeout = std::chrono::seconds(a.get_int("timeout-s", 1800));
  auto stop_after = std::chrono::seconds(a.get_int("stop-after-s", 0));
  auto binary = a.get("binary", test::binary_path("app/matchsync"));
  auto label = std::to_string(jobs) + "x" + std::to_string(matches);

  test::fake_opendota fake;
  fake.set_real_shapes();
  auto db = bench::fresh_database("bench_memory");
  {
    pqxx::connection c(db);
    for (long j = 0; j < jobs; ++j) {
      std::int64_t account = 7001 + j;
      fake.set_history_size(account, matches);
      auto user = db::user_store(c).ensure(account);
      db::job_store(c).create(user.id, account, job_type::full_sync);
    }
  }
  // matchsync warns about MATCHSYNC_* variables it does not know.
  std::string bench_url = bench::admin_url();
  ::unsetenv("MATCHSYNC_BENCH_PG_URL");
  auto started = steady::now();
  test::child_process serve(
    {binary, "serve"},
    {{"MATCHSYNC_DATABASE_URL", db}, {"MATCHSYNC_UPSTREAM_URL", fake.url()},
     {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", "0"}, {"MATCHSYNC_UPSTREAM_DAILY_LIMIT", "0"},
     {"MATCHSYNC_HTTP_HOST", "127.0.0.1"}, {"MATCHSYNC_HTTP_PORT", "0"},
     {"MATCHSYNC_CLUSTER_SECRET", ""}, {"MATCHSYNC_LOG_FORMAT", "text"}});
  ::setenv("MATCHSYNC_BENCH_PG_URL", bench_url.c_str(), 1);

  // Sampled VmRSS too: VmHWM says the peak, the samples say when.
  pqxx::connection c(db);
  long peak_sampled = 0;
  long total = matches * jobs;
  const std::string done_sql =
    "SELECT count(*) FROM sync_jobs WHERE status IN ('completed', 'failed', 'cancelled')";
  // VmHWM once every job has listed: the listing's own share of the peak.
  long listed_hwm = -1;
  const std::string listed_sql =
    "SELECT count(*) FROM sync_jobs WHERE phase = 'details' OR status IN "
    "('completed', 'failed', 'cancelled')";
  while (count_of(c, done_sql) < jobs) {
    if (listed_hwm < 0 && count_of(c, listed_sql) == jobs)
      listed_hwm = bench::status_kb(serve.pid(), "VmHWM");
    if (!serve.running())
      throw std::runtime_error("serve exited: " + serve.output());
    if (stop_after.count() > 0 && steady::now() - started > stop_after)
      break;
    if (steady::now() - started > timeout)
      throw std::runtime_error("the syncs did not end in time");
    for (int k = 0; k < 40; ++k) {
      peak_sampled = std::max(peak_sampled, bench::status_kb(serve.pid(), "VmRSS"));
      std::this_thread::sleep_for(5ms);  // the sampling interval
    }
  }
  double seconds = bench::ms_between(started, steady::now()) / 1000;
  auto hwm = bench::status_kb(serve.pid(), "VmHWM");
  auto rss_end = bench::status_kb(serve.pid(), "VmRSS");
  auto completed = count_of(c, "SELECT count(*) FROM sync_jobs WHERE status = 'completed'");
  auto with_details =
    count_of(c, "SELECT count(*) FROM matches WHERE details_state = 'fetched'");
  auto detail_bytes = count_of(
    c, "SELECT coalesce(sum(octet_length(details::text)), 0) FROM match_details");
  serve.signal(SIGTERM);
  serve.wait_exit(20s);
  bool partial = stop_after.count() > 0 && completed < jobs;
  if (partial) {
    label += "_partial";
    total = with_details;
  }

  bench::result(name, label + "_serve_peak_rss", static_cast<double>(hwm) / 1024, "MB");
  bench::result(name, label + "_serve_peak_rss_listed", static_cast<double>(listed_hwm) / 1024,
                "MB");
  bench::result(name, label + "_serve_peak_rss_sampled",
                static_cast<double>(peak_sampled) / 1024, "MB");
  bench::result(name, label + "_serve_rss_end", static_cast<double>(rss_end) / 1024, "MB");
  bench::result(name, label + "_jobs_completed", static_cast<double>(completed), "jobs");
  bench::result(name, label + "_matches_with_details", static_cast<double>(with_details),
                "matches");
  bench::result(name, label + "_details_stored", static_cast<double>(detail_bytes) / 1e6, "MB");
  bench::result(name, label + "_matches_per_s", static_cast<double>(total) / seconds,
                "matches/s");
  if (!partial && (completed != jobs || with_details != total)) {
    std::cerr << "bench_memory: not every match was stored with details\n";
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_memory: " << e.what() << std::endl;
  return 1;
}
