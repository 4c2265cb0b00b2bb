// bench_cluster: what worker nodes add. This process is the coordinator (the
// real `runtime`, 4 local slots, listening for workers on loopback); 0, 1 or
// 2 `matchsync worker` processes with 4 slots each join it. With 50 ms of
// upstream latency and no rate limit, many small full syncs are queued at
// once and the steady completion rate is measured; then the cancel latency
// of jobs running on a worker node beside jobs running on a local slot.
//
//   bench_cluster [--jobs 60] [--matches 40] [--latency-ms 50]
//                 [--cancels 100] [--cancel-latency-ms 5000] [--tls 0|1]
//   bench_cluster --part fairness [--rate 60] [--many 15] [--seconds 300]
//
// --part fairness (issue 19 across nodes): the coordinator has no slot of
// its own and lends the one budget (--rate a minute); worker-1 (1 slot)
// runs one full sync, worker-2 (--many slots) runs --many; over --seconds
// the upstream requests each job made (the fake's log, by account) are
// counted. Fair: every job about the same count, whatever its node.
//
// With --tls 1 every node talks over mutual TLS (certificates made for the
// run by the code behind `matchsync cluster ca|cert`); figures are the same
// names with a `tls_` prefix.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
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
                                                  const std::string& upstream,
                                                  int slots = 4) {
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
                                         {"MATCHSYNC_SLOTS", std::to_string(slots)},
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

// Requests per job (account) in the fake's log from `since`: list requests
// by the account in their path, details by the match id's account
// (fake_opendota::match_id: account * 1,000,000 + index + 1).
std::map<std::int64_t, int> requests_by_account(test::fake_opendota& fake, std::size_t since,
                                                std::size_t until) {
  std::map<std::int64_t, int> out;
  auto log = fake.log(since);
  for (std::size_t i = 0; i < log.size() && since + i < until; ++i) {
    auto& path = log[i].path;
    const std::string players = "/api/players/", matches = "/api/matches/";
    if (path.rfind(players, 0) == 0)
      ++out[std::stoll(path.substr(players.size()))];
    else if (path.rfind(matches, 0) == 0)
      ++out[(std::stoll(path.substr(matches.size())) - 1) / 1'000'000];
  }
  return out;
}

void cross_node_fairness(test::fake_opendota& fake, int rate, int many, int seconds,
                         std::int64_t first_account) {
  auto db = bench::fresh_database("bench_cluster_fairness");
  auto cfg = coordinator_config(db, fake.url(), 0);
  cfg.upstream_rate_per_minute = rate;
  runtime rt(cfg, std::make_shared<metrics>());
  int port = rt.listen_cluster();
  pqxx::connection conn(db);
  auto start_job = [&](std::int64_t account) {
    fake.set_history_size(account, 5000);  // not done within the run
    auto user = db::user_store(conn).ensure(account).id;
    auto job = rt.trigger(user, account, job_type::full_sync).job;
    if (!job)
      throw std::runtime_error("trigger refused");
    return job->id;
  };
  auto running = [&](int n) {
    pqxx::nontransaction tx(conn);
    return tx.exec1("SELECT count(*) FROM sync_jobs WHERE status = 'running'")[0].as<int>() == n;
  };
  // worker-1 joins alone and takes the single job; then worker-2 the rest.
  auto w1 = start_worker("worker-1", port, db, fake.url(), 1);
  await([&] { return rt.workers().size() == 2u; }, 60s, "worker-1 joining");
  start_job(first_account);
  await([&] { return running(1); }, 60s, "the single job running");
  auto w2 = start_worker("worker-2", port, db, fake.url(), many);
  await([&] { return rt.workers().size() == 3u; }, 60s, "worker-2 joining");
  for (int i = 1; i <= many; ++i)
    start_job(first_account + i);
  await([&] { return running(many + 1); }, 60s, "every job running");
  {
    pqxx::nontransaction tx(conn);
    auto on_w1 = tx.exec1("SELECT count(*) FROM sync_jobs WHERE node = 'worker-1'")[0].as<int>();
    if (on_w1 != 1)
      throw std::runtime_error("worker-1 runs " + std::to_string(on_w1) + " jobs, not 1");
  }
  auto since = fake.log().size();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  auto until = fake.log().size();
  auto counts = requests_by_account(fake, since, until);
  int single = counts[first_account], lo = -1, hi = 0, sum = 0;
  for (int i = 1; i <= many; ++i) {
    int n = counts[first_account + i];
    lo = lo < 0 ? n : std::min(lo, n);
    hi = std::max(hi, n);
    sum += n;
  }
  double mean = many > 0 ? static_cast<double>(sum) / many : 0;
  bench::result(name, "fairness_requests_total", static_cast<double>(until - since), "requests");
  bench::result(name, "fairness_single_job_requests", single, "requests");
  bench::result(name, "fairness_many_jobs_min_requests", lo, "requests");
  bench::result(name, "fairness_many_jobs_max_requests", hi, "requests");
  bench::result(name, "fairness_many_jobs_mean_requests", mean, "requests");
  if (mean > 0)
    bench::result(name, "fairness_single_to_mean_ratio", single / mean, "x");
  w1->signal(SIGTERM);
  w2->signal(SIGTERM);
  w1->wait_exit(20s);
  w2->wait_exit(20s);
  rt.shutdown(10s);
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

  if (a.get("part", "") == "fairness") {
    test::fake_opendota::options fo;
    fo.detail_bytes = 2000;
    test::fake_opendota fake(fo);
    fake.set_latency(latency);
    cross_node_fairness(fake, static_cast<int>(a.get_int("rate", 60)),
                        static_cast<int>(a.get_int("many", 15)),
                        static_cast<int>(a.get_int("seconds", 300)), 600001);
    return 0;
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
