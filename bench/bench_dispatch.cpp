// bench_dispatch: time from runtime::trigger to the job's first upstream
// request, as received by the fake. Both sides read CLOCK_MONOTONIC (steady
// clock) on the same machine; the fake logs `t_ms` from its own start, so
// the offset between the two is calibrated once from the fake's `now_ms` on
// the fastest of many control round trips (the error is at most half that
// round trip, reported). Jobs run one at a time on an idle node; each is
// awaited to the end (by polling its row) before the log is read, so the
// measuring never competes with the path measured.
//
//   bench_dispatch [--jobs 100] [--slots 4]
#include <iostream>
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

const std::string name = "dispatch";

double steady_ms(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
}

struct offset {
  double ms = 0;     // our steady ms = fake t_ms + ms
  double error = 0;  // half the best round trip
};

offset calibrate(test::fake_opendota& fake, int rounds) {
  offset best{0, 1e9};
  for (int i = 0; i < rounds; ++i) {
    auto a = steady::now();
    auto j = fake.control("GET", "/_control/log?since=1000000000");
    auto b = steady::now();
    double half = bench::ms_between(a, b) / 2;
    if (half < best.error)
      best = {steady_ms(a) + half - j.at("now_ms").get<double>(), half};
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  int jobs = static_cast<int>(a.get_int("jobs", 100));

  test::fake_opendota::options fo;
  fo.threads = 16;
  fo.detail_bytes = 2000;
  test::fake_opendota fake(fo);
  auto url = bench::fresh_database("bench_dispatch");
  pqxx::connection conn(url);
  config cfg;
  cfg.database_url = url;
  cfg.upstream_url = fake.url();
  cfg.upstream_rate_per_minute = 0;
  cfg.slots = static_cast<int>(a.get_int("slots", 4));
  cfg.node_id = "bench";
  cfg.auth = "none";
  runtime rt(cfg, std::make_shared<metrics>());

  std::vector<std::int64_t> users;
  for (int i = 0; i < jobs; ++i) {
    fake.set_history_size(400001 + i, 1);
    users.push_back(db::user_store(conn).ensure(400001 + i).id);
  }
  // Warm up: the pools open their database sessions on first use.
  for (int i = 0; i < cfg.slots; ++i) {
    std::int64_t account = 499001 + i;
    fake.set_history_size(account, 1);
    auto job = rt.trigger(db::user_store(conn).ensure(account).id, account,
                          job_type::incremental_sync).job;
    auto deadline = steady::now() + 30s;
    while (job && !is_terminal(db::job_store(conn).find(job->id)->status) &&
           steady::now() < deadline)
      std::this_thread::sleep_for(5ms);
  }
  auto off = calibrate(fake, 200);
  bench::result(name, "clock_offset_error_ms", off.error, "ms");

  std::size_t since = fake.log().size();
  std::vector<double> to_request, to_return;
  // The same span split at the row's timestamps (now() of the transactions
  // that created and started the job; same machine, same wall clock).
  std::vector<double> to_created, to_started, started_to_request;
  auto wall_ms = [] {
    return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  };
  for (int i = 0; i < jobs; ++i) {
    std::int64_t account = 400001 + i;
    auto w0 = wall_ms();
    auto t0 = steady::now();
    auto job = rt.trigger(users[i], account, job_type::incremental_sync).job;
    auto t1 = steady::now();
    if (!job)
      throw std::runtime_error("trigger refused");
    auto deadline = steady::now() + 30s;
    while (!is_terminal(db::job_store(conn).find(job->id)->status)) {
      if (steady::now() > deadline)
        throw std::runtime_error("job " + std::to_string(job->id) + " did not end");
      std::this_thread::sleep_for(5ms);
    }
    auto list_path = "/api/players/" + std::to_string(account) + "/matches";
    double first = -1;
    for (auto& r : fake.log(since)) {
      since = r.seq + 1;
      if (first < 0 && r.path == list_path)
        first = r.t_ms + off.ms;
    }
    if (first < 0)
      throw std::runtime_error("no request seen for " + std::to_string(account));
    to_request.push_back(first - steady_ms(t0));
    to_return.push_back(bench::ms_between(t0, t1));
    {
      pqxx::nontransaction tx(conn);
      auto r = tx.exec_params1("SELECT extract(epoch FROM created_at)::float8 * 1000, "
                               "extract(epoch FROM started_at)::float8 * 1000 "
                               "FROM sync_jobs WHERE id = $1", job->id);
      auto created = r[0].as<double>(), started = r[1].as<double>();
      to_created.push_back(created - w0);
      to_started.push_back(started - created);
      started_to_request.push_back(to_request.back() - (started - w0));
    }
  }
  bench::result(name, "trigger_to_first_request_p50_ms", bench::percentile(to_request, 50), "ms");
  bench::result(name, "trigger_to_first_request_p90_ms", bench::percentile(to_request, 90), "ms");
  bench::result(name, "trigger_to_first_request_max_ms", bench::percentile(to_request, 100), "ms");
  bench::result(name, "trigger_to_first_request_min_ms", bench::percentile(to_request, 0), "ms");
  bench::result(name, "split_trigger_to_created_p50_ms", bench::percentile(to_created, 50), "ms");
  bench::result(name, "split_created_to_started_p50_ms", bench::percentile(to_started, 50), "ms");
  bench::result(name, "split_started_to_request_p50_ms",
                bench::percentile(started_to_request, 50), "ms");
  bench::result(name, "trigger_call_p50_ms", bench::percentile(to_return, 50), "ms");
  bench::result(name, "trigger_call_p90_ms", bench::percentile(to_return, 90), "ms");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_dispatch: " << e.what() << "\n";
  return 1;
}
