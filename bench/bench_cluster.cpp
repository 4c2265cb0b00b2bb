// bench_cluster: what worker nodes add. This process is the coordinator (the
// real `runtime`, 4 local slots, listening for workers on loopback); 0, 1 or
// 2 `matchsync worker` processes with 4 slots each join it. With 50 ms of
// upstream latency and no rate limit, many small full syncs are queued at
// once and the steady completion rate is measured; then the cancel latency
// of jobs running on a worker node beside jobs running on a local slot.
//
//   bench_cluster [--jobs 60] [--matches 40] [--latency-ms 50]
//                 [--cancels 100] [--cancel-latency-ms 5000] [--tls 0|1]
//
// With --tls 1 every node talks over mutual TLS (certificates made for the
// run by the code behind `matchsync cluster ca|cert`); figures are the same
// names with a `tls_` prefix.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include <pqxx/pqxx>

#include "actors/runtime.hpp"
#include "core/cluster_cert.hpp"
#include "bench/support/bench_support.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

std::string name = "cluster";
const std::string secret = "bench-secret";
// The run's certificates (ca/, nodes/NODE.*), or "" for plain TCP.
std::string tls_dir;

// A node's CA, certificate and key files, or none for plain TCP.
std::vector<std::string> tls_files(const std::string& node) {
  if (tls_dir.empty())
    return {"", "", ""};
  return {tls_dir + "/ca/ca.crt", tls_dir + "/nodes/" + node + ".crt",
          tls_dir + "/nodes/" + node + ".key"};
}

config coordinator_config(const std::string& db_url, const std::string& upstream,
                          int local_slots) {
  config cfg;
  cfg.database_url = db_url;
  cfg.upstream_url = upstream;
  cfg.upstream_rate_per_minute = 0;
  cfg.upstream_timeout_ms = 30000;
  cfg.slots = local_slots;
  cfg.node_id = "coordinator";
  cfg.auth = "none";
  cfg.cluster_port = 0;  // any free port; listen_cluster() says which
  cfg.cluster_secret = secret;
  auto tls = tls_files("coordinator");
  cfg.cluster_ca = tls[0];
  cfg.cluster_cert = tls[1];
  cfg.cluster_key = tls[2];
  return cfg;
}

std::unique_ptr<test::child_process> start_worker(const std::string& node, int port,
                                                  const std::string& db_url,
                                                  const std::string& upstream) {
  // `matchsync` warns about unknown MATCHSYNC_* variables, and the child
  // inherits our environment: hide the bench's own variable while it starts.
  std::string bench_url = bench::admin_url();
  ::unsetenv("MATCHSYNC_BENCH_PG_URL");
  struct restore {
    std::string url;
    ~restore() { ::setenv("MATCHSYNC_BENCH_PG_URL", url.c_str(), 1); }
  } restore_env{bench_url};
  std::map<std::string, std::string> env{{"MATCHSYNC_DATABASE_URL", db_url},
                                         {"MATCHSYNC_UPSTREAM_URL", upstream},
                                         {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", "0"},
                                         {"MATCHSYNC_UPSTREAM_DAILY_LIMIT", "0"},
                                         {"MATCHSYNC_SLOTS", "4"},
                                         {"MATCHSYNC_CLUSTER_SECRET", secret},
                                         {"MATCHSYNC_NODE_ID", node}};
  auto tls = tls_files(node);
  if (!tls_dir.empty()) {
    env["MATCHSYNC_CLUSTER_CA"] = tls[0];
    env["MATCHSYNC_CLUSTER_CERT"] = tls[1];
    env["MATCHSYNC_CLUSTER_KEY"] = tls[2];
  }
  return std::make_unique<test::child_process>(
    std::vector<std::string>{test::binary_path("app/matchsync"), "worker", "--coordinator",
                             "127.0.0.1:" + std::to_string(port)},
    env);
}

// test::wait_until, but a missed deadline ends the benchmark with `what`.
void await(const std::function<bool()>& cond, std::chrono::seconds deadline,
           const std::string& what) {
  if (!test::wait_until(cond, deadline))
    throw std::runtime_error("timed out: " + what);
}

struct cluster_run {
  cluster_run(const std::string& db, const std::string& upstream, int local_slots,
              int workers)
    : url(db), rt(coordinator_config(db, upstream, local_slots), std::make_shared<metrics>()) {
    int port = rt.listen_cluster();
    for (int i = 0; i < workers; ++i)
      nodes.push_back(start_worker("worker-" + std::to_string(i + 1), port, db, upstream));
    await([&] { return rt.workers().size() == static_cast<std::size_t>(workers + 1); }, 60s,
          "workers joining");
  }
  ~cluster_run() {
    for (auto& n : nodes) {
      n->signal(SIGTERM);
      n->wait_exit(20s);
    }
    rt.shutdown(10s);
  }

  std::string url;
  runtime rt;
  std::vector<std::unique_ptr<test::child_process>> nodes;
};

// Jobs per minute once every slot is busy: completions between the first
// and last tenth of the run, so the ramp-up and the last partial wave are
// left out.
double steady_jobs_per_minute(std::vector<double> completed_s) {
  std::sort(completed_s.begin(), completed_s.end());
  auto n = completed_s.size();
  auto lo = n / 10, hi = n - 1 - n / 10;
  if (hi <= lo || completed_s[hi] <= completed_s[lo])
    return 0;
  return static_cast<double>(hi - lo) / (completed_s[hi] - completed_s[lo]) * 60.0;
}

double throughput(test::fake_opendota& fake, int workers, int jobs, int matches,
                  std::int64_t first_account) {
  auto db = bench::fresh_database("bench_cluster_" + std::to_string(workers));
  cluster_run c(db, fake.url(), 4, workers);
  pqxx::connection conn(db);
  std::vector<std::pair<std::int64_t, std::int64_t>> users;  // user, account
  for (int i = 0; i < jobs; ++i) {
    std::int64_t account = first_account + i;
    fake.set_history_size(account, matches);
    users.emplace_back(db::user_store(conn).ensure(account).id, account);
  }
  auto t0 = steady::now();
  for (auto& [user, account] : users)
    if (!c.rt.trigger(user, account, job_type::full_sync).job)
      throw std::runtime_error("trigger refused");
  auto terminal = [&] {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT count(*) FROM sync_jobs WHERE status IN "
                    "('completed', 'failed', 'cancelled')")[0]
             .as<int>() == jobs;
  };
  await(terminal, 600s, "all jobs ending");
  auto makespan_s = bench::ms_between(t0, steady::now()) / 1000.0;

  pqxx::nontransaction tx(conn);
  std::vector<double> completed;
  for (auto r : tx.exec("SELECT extract(epoch FROM completed_at)::float8 FROM sync_jobs "
                        "WHERE status = 'completed'"))
    completed.push_back(r[0].as<double>());
  auto nodes = tx.exec1("SELECT count(DISTINCT node) FROM sync_jobs")[0].as<int>();
  auto tag = std::to_string(workers) + "_workers";
  bench::result(name, "jobs_completed_" + tag, static_cast<double>(completed.size()), "jobs");
  bench::result(name, "nodes_that_ran_jobs_" + tag, nodes, "nodes");
  bench::result(name, "makespan_" + tag, makespan_s, "s");
  auto rate = steady_jobs_per_minute(completed);
  bench::result(name, "jobs_per_minute_" + tag, rate, "jobs/min");
  return rate;
}

// Cancel latency (runtime::cancel, request to the final row) of jobs whose
// first upstream request is in flight, on a local slot or on a worker.
void cancel_latency(test::fake_opendota& fake, bool on_worker, int cancels,
                    std::int64_t first_account) {
  auto db = bench::fresh_database(on_worker ? "bench_cluster_cancel_w" : "bench_cluster_cancel_l");
  cluster_run c(db, fake.url(), on_worker ? 0 : 4, on_worker ? 1 : 0);
  pqxx::connection conn(db);
  std::vector<double> took;
  int not_cancelled = 0;
  for (int i = 0; i < cancels; ++i) {
    std::int64_t account = first_account + i;
    fake.set_history_size(account, 1000);
    auto user = db::user_store(conn).ensure(account).id;
    auto since = fake.log().size();
    auto job = c.rt.trigger(user, account, job_type::full_sync).job;
    if (!job)
      throw std::runtime_error("trigger refused");
    auto list_path = "/api/players/" + std::to_string(account) + "/matches";
    await(
      [&] {
        for (auto& r : fake.log(since))
          if (r.path == list_path)
            return true;
        return false;
      },
      30s, "the job's first request");
    auto t0 = steady::now();
    auto r = c.rt.cancel(user, job->id);
    took.push_back(bench::ms_between(t0, steady::now()));
    if (!r.job || r.job->status != job_status::cancelled)
      ++not_cancelled;
  }
  auto where = std::string(on_worker ? "worker" : "local");
  bench::result(name, "cancel_" + where + "_p50_ms", bench::percentile(took, 50), "ms");
  bench::result(name, "cancel_" + where + "_p99_ms", bench::percentile(took, 99), "ms");
  bench::result(name, "cancel_" + where + "_max_ms", bench::percentile(took, 100), "ms");
  bench::result(name, "cancel_" + where + "_not_cancelled", not_cancelled, "cancels");
}

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  int jobs = static_cast<int>(a.get_int("jobs", 60));
  int matches = static_cast<int>(a.get_int("matches", 40));
  int latency = static_cast<int>(a.get_int("latency-ms", 50));
  int cancels = static_cast<int>(a.get_int("cancels", 100));
  int cancel_latency_ms = static_cast<int>(a.get_int("cancel-latency-ms", 5000));
  if (a.get_int("tls", 0) != 0) {
    char tmpl[] = "/tmp/bench_cluster_tls.XXXXXX";
    tls_dir = ::mkdtemp(tmpl);
    cluster_cert::create_ca(tls_dir + "/ca");
    for (auto node : {"coordinator", "worker-1", "worker-2"})
      cluster_cert::create_node_cert(tls_dir + "/ca", node, tls_dir + "/nodes");
    name = "cluster_tls";
  }

  test::fake_opendota::options fo;
  fo.threads = 64 + cancels;  // a cancelled request holds a thread until its delay ends
  fo.detail_bytes = 2000;
  test::fake_opendota fake(fo);
  fake.set_latency(latency);

  double alone = throughput(fake, 0, jobs, matches, 100001);
  double one = throughput(fake, 1, jobs, matches, 200001);
  double two = throughput(fake, 2, jobs, matches, 300001);
  if (alone > 0) {
    bench::result(name, "ratio_1_worker_to_alone", one / alone, "x");
    bench::result(name, "ratio_2_workers_to_alone", two / alone, "x");
  }

  fake.set_latency(cancel_latency_ms);
  cancel_latency(fake, false, cancels, 400001);
  cancel_latency(fake, true, cancels, 500001);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_cluster: " << e.what() << "\n";
  return 1;
}
