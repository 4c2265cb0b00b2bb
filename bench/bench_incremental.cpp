// bench_incremental: an incremental sync that finds 7 new matches on top of
// 20,000 stored, beside the same on an account with only those 7 matches
// (nothing stored): time and upstream requests of each, and their ratio. The
// contract says an incremental's cost grows with the new matches, not with
// the stored history, so the ratio should be close to 1.
//
//   bench_incremental [--stored 20000] [--new 7] [--rounds 7]
//                     [--setup-detail-bytes 20000] [--detail-bytes 20000]
#include <iostream>

#include <pqxx/pqxx>

#include "bench/support/bench_support.hpp"
#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "sync/sync_engine.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/http_client.hpp"
#include "upstream/rate_budget.hpp"

using namespace matchsync;
using namespace std::chrono_literals;
using bench::steady;

namespace {

const std::string name = "incremental";

struct run {
  double ms = 0;
  int requests = 0;
  std::int64_t new_matches = 0;
};

struct harness {
  harness(const std::string& db_url, test::fake_opendota& f) : conn(db_url), fake(f) {
    o.base_url = fake.url();
    o.timeout = 30s;
    o.seed = 1;
  }

  // One incremental sync of `account` by the engine, to the end.
  run sync(std::int64_t account, job_type type = job_type::incremental_sync) {
    auto user = db::user_store(conn).ensure(account);
    auto job = db::job_store(conn).create(user.id, account, type);
    auto started = db::job_store(conn).start(job.id, "bench", 3600);
    upstream::http_client http(o, budget);
    sync::engine_settings s;  // the job actor's defaults: page 100, 10 details/step
    s.lease_s = 3600;
    sync::sync_engine engine(*started, {started->id, "bench", started->attempt}, http, s);
    upstream::cancel_token token;
    run r;
    auto t0 = steady::now();
    while (engine.step(conn, token) == sync::step_result::more) {
    }
    r.ms = bench::ms_between(t0, steady::now());
    r.requests = engine.take_stats().requests;
    r.new_matches = engine.job().new_matches;
    if (engine.job().status != job_status::completed)
      throw std::runtime_error("sync of " + std::to_string(account) + " ended " +
                               to_string(engine.job().status));
    return r;
  }

  pqxx::connection conn;
  test::fake_opendota& fake;
  upstream::local_rate_budget budget{0};
  upstream::http_client_options o;
};

double median(std::vector<double> v) { return bench::percentile(std::move(v), 50); }

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  auto stored = a.get_int("stored", 20000);
  auto fresh = a.get_int("new", 7);
  int rounds = static_cast<int>(a.get_int("rounds", 7));
  const std::int64_t big = 5151;

  test::fake_opendota::options fo;
  fo.threads = 8;
  test::fake_opendota fake(fo);
  auto url = bench::fresh_database("bench_incremental");
  harness h(url, fake);

  // Setup: the big account's whole history stored by a first incremental.
  fake.set_detail_size(static_cast<int>(a.get_int("setup-detail-bytes", 20000)));
  fake.set_history_size(big, stored);
  auto setup = h.sync(big);
  std::cerr << "setup: " << stored << " matches stored in " << setup.ms / 1000 << " s\n";
  bench::result(name, "setup_sync_seconds", setup.ms / 1000, "s");

  fake.set_detail_size(static_cast<int>(a.get_int("detail-bytes", 20000)));
  std::vector<double> big_ms, small_ms;
  std::vector<double> big_req, small_req;
  for (int i = 0; i < rounds; ++i) {
    // Interleaved, so that a noisy moment hits both sides.
    fake.append_matches(big, fresh);
    auto b = h.sync(big);
    if (b.new_matches != fresh)
      throw std::runtime_error("big account: " + std::to_string(b.new_matches) + " new");
    big_ms.push_back(b.ms);
    big_req.push_back(b.requests);

    std::int64_t small = 7000 + i;  // a fresh account with only the new matches
    fake.set_history_size(small, fresh);
    auto s = h.sync(small);
    if (s.new_matches != fresh)
      throw std::runtime_error("small account: " + std::to_string(s.new_matches) + " new");
    small_ms.push_back(s.ms);
    small_req.push_back(s.requests);
    std::cerr << "round " << i << ": on " << stored << " stored " << b.ms << " ms, "
              << b.requests << " requests; on 0 stored " << s.ms << " ms, "
              << s.requests << " requests\n";
  }
  auto n = std::to_string(stored);
  bench::result(name, "on_" + n + "_stored_median_ms", median(big_ms), "ms");
  bench::result(name, "on_" + n + "_stored_max_ms", bench::percentile(big_ms, 100), "ms");
  bench::result(name, "on_" + n + "_stored_requests", median(big_req), "requests");
  bench::result(name, "on_0_stored_median_ms", median(small_ms), "ms");
  bench::result(name, "on_0_stored_max_ms", bench::percentile(small_ms, 100), "ms");
  bench::result(name, "on_0_stored_requests", median(small_req), "requests");
  bench::result(name, "time_ratio_" + n + "_vs_0", median(big_ms) / median(small_ms), "ratio");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_incremental: " << e.what() << "\n";
  return 1;
}
