// bench_many_jobs: N jobs running at once in one process (N users, a slow
// fake upstream, slots = N): the process's peak RSS, its threads and
// database connections, the PostgreSQL backends' memory, and the latency of
// status queries meanwhile: runtime::running_jobs() (a coordinator round
// trip) and job_store::active_for_user (a database read on its own
// connection).
//
//   bench_many_jobs [--jobs 1000] [--latency-ms 2000] [--measure-s 20] [--db-pool 16]
#include <iostream>
#include <random>
#include <thread>

#include <pqxx/pqxx>

#include "actors/runtime.hpp"
#include "bench/support/bench_support.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

const std::string name = "many_jobs";

// Client backends: all of them, and those of the runtime's step pool.
struct connection_count {
  long all = 0;
  long steps = 0;
};

connection_count pg_connections(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  auto r = tx.exec1(
    "SELECT count(*), count(*) FILTER (WHERE application_name = 'matchsync-steps') "
    "FROM pg_stat_activity WHERE backend_type = 'client backend'");
  return {r[0].as<long>(), r[1].as<long>()};
}

// Sum of the client backends' proportional set sizes (kB).
long pg_backends_pss_kb(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  long total = 0;
  for (auto row : tx.exec("SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'")) {
    long kb = bench::pss_kb(row[0].as<int>());
    if (kb > 0)
      total += kb;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  int jobs = static_cast<int>(a.get_int("jobs", 1000));
  int latency = static_cast<int>(a.get_int("latency-ms", 2000));
  int measure_s = static_cast<int>(a.get_int("measure-s", 20));
  int db_pool = static_cast<int>(a.get_int("db-pool", config{}.db_pool_size));

  test::fake_opendota::options fo;
  fo.threads = jobs + 100;
  fo.detail_bytes = 2000;
  test::fake_opendota fake(fo);
  fake.set_latency(latency);

  auto url = bench::fresh_database("bench_many_jobs");
  pqxx::connection conn(url);   // setup and the pg_stat_activity readings
  pqxx::connection probe(url);  // the status reads being measured
  std::vector<std::int64_t> users;
  for (int i = 0; i < jobs; ++i) {
    std::int64_t account = 300001 + i;
    fake.set_history_size(account, 500);
    users.push_back(db::user_store(conn).ensure(account).id);
  }

  long rss_start = bench::self_rss_kb();
  bench::rss_sampler sampler(20ms);
  config cfg;
  cfg.database_url = url;
  cfg.upstream_url = fake.url();
  cfg.upstream_rate_per_minute = 0;
  cfg.upstream_timeout_ms = latency + 30000;
  cfg.slots = jobs;
  cfg.db_pool_size = db_pool;
  cfg.node_id = "bench";
  cfg.auth = "none";
  auto t_rt = steady::now();
  auto rt = std::make_unique<runtime>(cfg, std::make_shared<metrics>());
  bench::result(name, "runtime_start_ms", bench::ms_between(t_rt, steady::now()), "ms");
  bench::result(name, "rss_idle_runtime_kb", bench::self_rss_kb(), "kB");
  bench::result(name, "threads_idle_runtime", bench::self_threads(), "threads");

  std::vector<double> trigger_ms;
  int refused = 0;
  auto t_trig = steady::now();
  for (int i = 0; i < jobs; ++i) {
    auto t0 = steady::now();
    auto r = rt->trigger(users[i], 300001 + i, job_type::full_sync);
    trigger_ms.push_back(bench::ms_between(t0, steady::now()));
    if (!r.job)
      ++refused;
  }
  bench::result(name, "triggers_total_ms", bench::ms_between(t_trig, steady::now()), "ms");
  bench::result(name, "trigger_p50_ms", bench::percentile(trigger_ms, 50), "ms");
  bench::result(name, "trigger_p99_ms", bench::percentile(trigger_ms, 99), "ms");
  bench::result(name, "triggers_refused", refused, "jobs");

  // Until every job runs (the coordinator's view), bounded.
  std::size_t running = 0;
  auto deadline = steady::now() + 120s;
  while ((running = rt->running_jobs().size()) < static_cast<std::size_t>(jobs) &&
         steady::now() < deadline)
    std::this_thread::sleep_for(100ms);
  bench::result(name, "all_running_after_ms", bench::ms_between(t_trig, steady::now()), "ms");
  bench::result(name, "jobs_running", static_cast<double>(running), "jobs");

  // Status queries while every job waits on the slow upstream.
  std::mt19937 pick(7);
  std::vector<double> running_ms, active_ms;
  auto end = steady::now() + std::chrono::seconds(measure_s);
  connection_count connections_max;
  auto note_connections = [&] {
    auto now = pg_connections(conn);
    connections_max.all = std::max(connections_max.all, now.all);
    connections_max.steps = std::max(connections_max.steps, now.steps);
  };
  int i = 0;
  while (steady::now() < end) {
    auto t0 = steady::now();
    auto ids = rt->running_jobs();
    auto t1 = steady::now();
    auto row = db::job_store(probe).active_for_user(users[pick() % users.size()]);
    auto t2 = steady::now();
    running_ms.push_back(bench::ms_between(t0, t1));
    active_ms.push_back(bench::ms_between(t1, t2));
    if (++i % 50 == 0)
      note_connections();
    std::this_thread::sleep_for(20ms);
  }
  note_connections();
  bench::result(name, "status_queries", static_cast<double>(running_ms.size()), "queries");
  bench::result(name, "running_jobs_p50_ms", bench::percentile(running_ms, 50), "ms");
  bench::result(name, "running_jobs_p99_ms", bench::percentile(running_ms, 99), "ms");
  bench::result(name, "running_jobs_max_ms", bench::percentile(running_ms, 100), "ms");
  bench::result(name, "active_for_user_p50_ms", bench::percentile(active_ms, 50), "ms");
  bench::result(name, "active_for_user_p99_ms", bench::percentile(active_ms, 99), "ms");
  bench::result(name, "active_for_user_max_ms", bench::percentile(active_ms, 100), "ms");
  bench::result(name, "threads_running", bench::self_threads(), "threads");
  bench::result(name, "pg_client_connections_max", connections_max.all, "connections");
  bench::result(name, "pg_step_connections_max", connections_max.steps, "connections");
  bench::result(name, "pg_backends_pss_kb", pg_backends_pss_kb(conn), "kB");
  bench::result(name, "rss_running_kb", bench::self_rss_kb(), "kB");

  {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec1(
      "SELECT count(*) FILTER (WHERE status = 'running'), "
      "count(*) FILTER (WHERE status = 'failed'), "
      "coalesce(sum(new_matches), 0), count(*) FILTER (WHERE new_matches > 0) FROM sync_jobs");
    bench::result(name, "db_jobs_running", r[0].as<double>(), "jobs");
    bench::result(name, "db_jobs_failed", r[1].as<double>(), "jobs");
    bench::result(name, "db_matches_listed", r[2].as<double>(), "matches");
    bench::result(name, "db_jobs_with_progress", r[3].as<double>(), "jobs");
    // Sessions the server started for this database, and those whose client
    // left before or while being served (a connect that timed out on the
    // client side ends up here).
    auto ses = tx.exec1("SELECT sessions, sessions_abandoned, sessions_fatal FROM "
                        "pg_stat_database WHERE datname = current_database()");
    bench::result(name, "pg_sessions_started", ses[0].as<double>(), "sessions");
    bench::result(name, "pg_sessions_abandoned", ses[1].as<double>(), "sessions");
    bench::result(name, "pg_sessions_fatal", ses[2].as<double>(), "sessions");
    auto err = tx.exec("SELECT error_message, count(*) FROM sync_jobs WHERE status = 'failed' "
                       "GROUP BY 1 ORDER BY 2 DESC LIMIT 3");
    for (auto e : err)
      bench::note(name, "failed " + e[1].as<std::string>() + "x: " + e[0].c_str());
  }

  auto t_stop = steady::now();
  rt->shutdown(std::chrono::milliseconds(latency + 10000));
  bench::result(name, "shutdown_ms", bench::ms_between(t_stop, steady::now()), "ms");
  rt.reset();
  sampler.stop();
  bench::result(name, "rss_before_runtime_kb", rss_start, "kB");
  bench::result(name, "rss_peak_kb", sampler.peak_kb(), "kB");
  bench::result(name, "vmhwm_kb", bench::self_hwm_kb(), "kB");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_many_jobs: " << e.what() << "\n";
  return 1;
}
