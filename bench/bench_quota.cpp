// bench_quota: how well matchsync uses OpenDota's quotas (issue 15), with
// the real `runtime` of `serve` (coordinator, node agent, job actors, the
// cluster budget, the daily count in the database) against the fake
// OpenDota serving OpenDota's own shapes (FACTS.md).
//
// - minute use: full syncs of several users queued at once at
//   --rate (60) per minute, against the fake enforcing the same number per
//   clock minute (and OpenDota's 2,000 a day, our default daily limit):
//   requests the fake received in each of --minutes (10) whole clock
//   minutes, and how many it answered 429 (aim: >= rate - 1 a minute, 0).
// - per match: a first full sync of --matches (6,000), no rate limit and
//   no latency (as with an API key; the count does not depend on them):
//   upstream requests (every one the fake received, retries included) per
//   match stored with details (aim: <= 1.001).
//
//   bench_quota [--part all|minute|per_match] [--minutes 10] [--rate 60]
//               [--users 8] [--user-matches 400] [--matches 6000]
//               [--latency-ms 150] [--jitter-ms 100]
#include <iostream>
#include <map>
#include <thread>

#include <pqxx/pqxx>

#include "actors/runtime.hpp"
#include "bench/support/bench_support.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

const std::string name = "quota";

config serve_config(const std::string& db_url, const std::string& upstream, int rate,
                    int daily_limit) {
  config cfg;
  cfg.database_url = db_url;
  cfg.upstream_url = upstream;
  cfg.upstream_rate_per_minute = rate;
  cfg.upstream_daily_limit = daily_limit;
  cfg.upstream_daily_limit_set = true;
  cfg.upstream_timeout_ms = 30000;
  cfg.node_id = "bench";
  cfg.auth = "none";
  return cfg;
}

void await(const std::function<bool()>& cond, std::chrono::seconds deadline,
           const std::string& what) {
  if (!test::wait_until(cond, deadline))
    throw std::runtime_error("timed out: " + std::string(what));
}

std::int64_t minute_of(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch()).count();
}

// One API request as the fake saw it, on the wall clock.
struct arrival {
  double wall_ms = 0;
  int status = 0;
  std::string path;
};

// The fake's log with its receive times (its monotonic clock) mapped onto
// the wall clock through the moment the log was read. The fake counts each
// request in the clock minute of its own wall clock; both run on this host.
std::vector<arrival> arrivals(test::fake_opendota& fake) {
  auto answer = fake.control("GET", "/_control/log");
  auto wall_now_ms = std::chrono::duration<double, std::milli>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto fake_now_ms = answer.at("now_ms").get<double>();
  std::vector<arrival> out;
  for (const auto& r : answer.at("requests"))
    out.push_back({wall_now_ms - (fake_now_ms - r.at("t_ms").get<double>()),
                   r.at("status").get<int>(), r.at("path").get<std::string>()});
  return out;
}

std::vector<std::int64_t> users_for(const std::string& db, test::fake_opendota& fake,
                                    std::int64_t first_account, int users, int matches) {
  pqxx::connection conn(db);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < users; ++i) {
    fake.set_history_size(first_account + i, matches);
    ids.push_back(db::user_store(conn).ensure(first_account + i).id);
  }
  return ids;
}

void minute_use(test::fake_opendota& fake, int minutes, int rate, int users, int matches,
                int latency_ms, int jitter_ms) {
  fake.reset();
  fake.set_real_shapes();
  fake.set_latency(latency_ms, jitter_ms);  // OpenDota's round trip
  test::quota_limits limits;
  limits.per_minute = rate;
  limits.per_day = 2000;  // OpenDota's daily cap without a key
  fake.set_limits(limits);
  auto db = bench::fresh_database("bench_quota_minute");
  const std::int64_t first_account = 810001;
  auto user_ids = users_for(db, fake, first_account, users, matches);
  runtime rt(serve_config(db, fake.url(), rate, 2000), std::make_shared<metrics>());
  for (int i = 0; i < users; ++i)
    if (!rt.trigger(user_ids[i], first_account + i, job_type::full_sync).job)
      throw std::runtime_error("trigger refused");
  // The whole clock minutes after the one the work started in.
  auto first_full = minute_of(std::chrono::system_clock::now()) + 1;
  std::cerr << "minute use: " << users << " full syncs of " << matches << " matches queued; "
            << "measuring " << minutes << " clock minutes\n";
  while (minute_of(std::chrono::system_clock::now()) < first_full + minutes)
    std::this_thread::sleep_for(1s);  // the run's length, not a synchronisation
  auto seen = arrivals(fake);
  rt.shutdown(10s);

  std::map<std::int64_t, int> per_minute;
  std::map<int, int> statuses;
  int refused = 0;
  for (auto& a : seen) {
    auto m = static_cast<std::int64_t>(a.wall_ms / 60000.0);
    if (m < first_full || m >= first_full + minutes)
      continue;
    per_minute[m] += 1;
    statuses[a.status] += 1;
    refused += a.status == 429 ? 1 : 0;
  }
  std::vector<double> counts;
  for (auto m = first_full; m < first_full + minutes; ++m) {
    counts.push_back(per_minute[m]);
    std::cerr << "  clock minute " << m << ": " << per_minute[m] << " requests\n";
  }
  double sum = 0;
  for (double c : counts)
    sum += c;
  bench::result(name, "minutes_measured", minutes, "min");
  bench::result(name, "requests_per_clock_minute_min", bench::percentile(counts, 0), "req/min");
  bench::result(name, "requests_per_clock_minute_mean", sum / minutes, "req/min");
  bench::result(name, "requests_per_clock_minute_max", bench::percentile(counts, 100), "req/min");
  bench::result(name, "answers_429_in_those_minutes", refused, "answers");
  std::string others;
  for (auto& [status, n] : statuses)
    if (status != 200)
      others += " " + std::to_string(status) + "x" + std::to_string(n);
  if (!others.empty())
    bench::note(name, "answers other than 200 in the measured minutes:" + others);
}

void per_match(test::fake_opendota& fake, int matches) {
  fake.reset();
  fake.set_real_shapes();
  auto db = bench::fresh_database("bench_quota_per_match");
  const std::int64_t account = 820001;
  auto user = users_for(db, fake, account, 1, matches).at(0);
  runtime rt(serve_config(db, fake.url(), 0, 0), std::make_shared<metrics>());
  auto t0 = steady::now();
  auto job = rt.trigger(user, account, job_type::full_sync).job;
  if (!job)
    throw std::runtime_error("trigger refused");
  pqxx::connection conn(db);
  std::string status;
  await(
    [&] {
      pqxx::nontransaction tx(conn);
      status = tx.exec_params1("SELECT status::text FROM sync_jobs WHERE id = $1", job->id)[0]
                 .as<std::string>();
      return status == "completed" || status == "failed" || status == "cancelled";
    },
    1800s, "the full sync ending");
  auto seconds = bench::ms_between(t0, steady::now()) / 1000.0;
  rt.shutdown(10s);
  if (status != "completed")
    throw std::runtime_error("the full sync ended " + status);

  pqxx::nontransaction tx(conn);
  auto with_details = tx.exec_params1("SELECT count(*) FROM matches WHERE account_id = $1 AND "
                                      "details_state = 'fetched'",
                                      account)[0]
                        .as<double>();
  auto requests = fake.log();
  double list_requests = 0, other = 0;
  auto list_path = "/api/players/" + std::to_string(account) + "/matches";
  for (auto& r : requests) {
    if (r.path == list_path)
      ++list_requests;
    else if (r.path.rfind("/api/matches/", 0) != 0)
      ++other;
  }
  bench::result(name, "full_sync_matches", matches, "matches");
  bench::result(name, "full_sync_stored_with_details", with_details, "matches");
  bench::result(name, "full_sync_requests", static_cast<double>(requests.size()), "requests");
  bench::result(name, "full_sync_list_requests", list_requests, "requests");
  bench::result(name, "full_sync_other_requests", other, "requests");
  bench::result(name, "requests_per_synced_match",
                with_details > 0 ? static_cast<double>(requests.size()) / with_details : 0,
                "req/match");
  // The table prints three decimals: the excess per 1,000 shows 1.001.
  bench::result(name, "extra_requests_per_1000_matches",
                with_details > 0 ? (static_cast<double>(requests.size()) - with_details) * 1000 /
                                     with_details
                                 : 0,
                "requests");
  bench::result(name, "full_sync_seconds", seconds, "s");
}

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  auto part = a.get("part", "all");
  int minutes = static_cast<int>(a.get_int("minutes", 10));
  int rate = static_cast<int>(a.get_int("rate", 60));
  int users = static_cast<int>(a.get_int("users", 8));
  int user_matches = static_cast<int>(a.get_int("user-matches", 400));
  int matches = static_cast<int>(a.get_int("matches", 6000));

  test::fake_opendota::options fo;
  fo.threads = 64;
  test::fake_opendota fake(fo);
  if (part == "all" || part == "per_match")
    per_match(fake, matches);
  if (part == "all" || part == "minute")
    minute_use(fake, minutes, rate, users, user_matches,
               static_cast<int>(a.get_int("latency-ms", 150)),
               static_cast<int>(a.get_int("jitter-ms", 100)));
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_quota: " << e.what() << "\n";
  return 1;
}
