// bench_schedules (issue 19): 10,000 users with a 15-minute schedule.
//  1. spread: how many due times share one second (the per-user phase).
//  2. idle: the process's CPU and RSS over 30 s while every schedule waits
//     for its due time (the scheduler's pass each second), against the same
//     process without schedules.
//  3. due at once: every schedule made due (a catch-up after downtime): the
//     jobs started per minute by the scheduler, and the RSS while 10,000
//     scheduled jobs wait in the coordinator's queue.
//
//   bench_schedules [--users 10000] [--idle-s 30] [--slots 16]
#include <ctime>
#include <iostream>
#include <map>
#include <thread>

#include <pqxx/pqxx>

#include "actors/runtime.hpp"
#include "bench/support/bench_support.hpp"
#include "core/schedule_rules.hpp"
#include "test/fake_opendota/fake_server.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

const std::string name = "schedules";

std::string array_of(const std::vector<std::int64_t>& v) {
  std::string out = "{";
  for (auto x : v)
    out += (out.size() > 1 ? "," : "") + std::to_string(x);
  return out + "}";
}

long count_scheduled(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT count(*) FROM sync_jobs WHERE triggered_by = 'schedule'")[0].as<long>();
}

// CPU seconds of this process and its RSS over `seconds`, nothing else asked.
std::pair<double, long> idle_reading(int seconds) {
  auto cpu0 = bench::cpu_seconds(0);
  std::this_thread::sleep_for(std::chrono::seconds(seconds));  // the measured window
  return {bench::cpu_seconds(0) - cpu0, bench::self_rss_kb()};
}

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  int users = static_cast<int>(a.get_int("users", 10000));
  int idle_s = static_cast<int>(a.get_int("idle-s", 30));
  const int interval = 15;

  // 1. Spread of the due times of `users` schedules turned on at once.
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::map<std::int64_t, int> per_second;
  for (std::int64_t u = 1; u <= users; ++u)
    ++per_second[schedule::next_due(now, u, interval)];
  int most = 0;
  for (auto& [t, n] : per_second)
    most = std::max(most, n);
  bench::result(name, "seconds_with_a_due_time", static_cast<double>(per_second.size()), "s");
  bench::result(name, "most_due_in_one_second", most, "schedules");
  bench::result(name, "most_due_in_one_second_share", 100.0 * most / users, "%");

  test::fake_opendota::options fo;
  fo.threads = 16;
  fo.detail_bytes = 2000;
  test::fake_opendota fake(fo);
  auto url = bench::fresh_database("bench_schedules");
  pqxx::connection conn(url);
  config cfg;
  cfg.database_url = url;
  cfg.upstream_url = fake.url();
  cfg.upstream_rate_per_minute = 0;
  cfg.upstream_daily_limit = 0;
  cfg.slots = static_cast<int>(a.get_int("slots", 16));
  cfg.node_id = "bench";
  cfg.auth = "none";
  runtime rt(cfg, std::make_shared<metrics>());

  // 2. Idle, without schedules, then with every user's (due in the future).
  auto [cpu_empty, rss_empty] = idle_reading(idle_s);
  std::vector<std::int64_t> accounts, ids, dues;
  for (int i = 0; i < users; ++i)
    accounts.push_back(600001 + i);
  {
    pqxx::work tx(conn);
    for (auto row : tx.exec_params("INSERT INTO users (account_id) SELECT unnest($1::bigint[]) "
                                   "RETURNING id", array_of(accounts)))
      ids.push_back(row[0].as<std::int64_t>());
    for (auto id : ids)
      dues.push_back(schedule::next_due(now + 120, id, interval));  // none due during the reading
    tx.exec_params("INSERT INTO sync_schedules (user_id, enabled, interval_minutes, next_run_at) "
                   "SELECT u, true, $3, to_timestamp(d) FROM unnest($1::bigint[], $2::bigint[]) "
                   "AS t(u, d)",
                   array_of(ids), array_of(dues), interval);
    tx.commit();
  }
  for (auto account : accounts)
    fake.set_history_size(account, 1);
  auto [cpu_scheduled, rss_scheduled] = idle_reading(idle_s);
  bench::result(name, "idle_cpu_without_schedules", 100.0 * cpu_empty / idle_s, "% of a core");
  bench::result(name, "idle_cpu_with_schedules", 100.0 * cpu_scheduled / idle_s, "% of a core");
  bench::result(name, "idle_rss_without_schedules", rss_empty / 1024.0, "MB");
  bench::result(name, "idle_rss_with_schedules", rss_scheduled / 1024.0, "MB");

  // 3. Every schedule due at once.
  {
    pqxx::work tx(conn);
    tx.exec("UPDATE sync_schedules SET next_run_at = now() - interval '1 second'");
    tx.commit();
  }
  auto t0 = steady::now();
  long peak = 0;
  bench::rss_sampler sampler;
  while (count_scheduled(conn) < users && steady::now() - t0 < 30min)
    std::this_thread::sleep_for(100ms);  // a poll step, not a measurement
  double took = bench::ms_between(t0, steady::now()) / 1000.0;
  sampler.stop();
  peak = sampler.peak_kb();
  auto started = count_scheduled(conn);
  bench::result(name, "jobs_started", static_cast<double>(started), "jobs");
  bench::result(name, "jobs_started_per_minute", started / took * 60.0, "jobs/min");
  bench::result(name, "peak_rss_while_starting", peak / 1024.0, "MB");
  rt.shutdown(10s);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_schedules: " << e.what() << std::endl;
  return 1;
}
