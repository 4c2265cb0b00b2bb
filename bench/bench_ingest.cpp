// bench_ingest: a full sync of N matches (real OpenDota shapes: 14 KB
// unparsed, 250 KB parsed details; or --real 0 --detail-bytes B) from the
// fake upstream, no latency and no rate limit, driven by sync_engine steps
// in one thread; beside it raw COPYs of the same rows into today's schema
// before migration 008 and into ours (run_copies). Also the
// process's RSS during the sync, and where the time of the sync goes
// (upstream calls vs the rest, CPU of this process, the fake, the backend).
//
//   bench_ingest --matches 20000 [--real 1] [--parsed-percent 30]
//                [--detail-bytes 20000] [--copy 1]
//                [--breakdown 1] [--details-per-step 20] [--page-size 100]
//                [--upstream fake|static] [--lanes 4]
//
// --upstream static is an experiment (static_upstream.hpp): an upstream that
// costs no CPU. Its figures are labelled with the variant.
#include <iostream>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "bench/static_upstream.hpp"
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

const std::string name = "ingest";

// Times the upstream calls (HTTP, retries, JSON checks) the engine makes.
// Details of the next batch are fetched while a batch commits, so their
// time overlaps the database's.
class timed_client final : public upstream::client {
public:
  explicit timed_client(upstream::client& inner) : inner_(inner) {}

  upstream::list_result list_matches(std::int64_t account_id, int limit, int offset,
                                     upstream::cancel_token& token) override {
    auto t0 = steady::now();
    auto r = inner_.list_matches(account_id, limit, offset, token);
    list_ms += bench::ms_between(t0, steady::now());
    ++lists;
    return r;
  }

  upstream::fetch_result account(std::int64_t account_id,
                                 upstream::cancel_token& token) override {
    return inner_.account(account_id, token);
  }

  upstream::detail_result match_detail(std::int64_t match_id,
                                       upstream::cancel_token& token) override {
    auto t0 = steady::now();
    auto r = inner_.match_detail(match_id, token);
    detail_ms += bench::ms_between(t0, steady::now());
    ++details;
    return r;
  }

  // The engine asks for a batch at a time: passed on whole, so that the
  // client's lanes fetch it side by side as in the product.
  std::vector<upstream::detail_result> match_details(
    const std::vector<std::int64_t>& match_ids, upstream::cancel_token& token) override {
    auto t0 = steady::now();
    auto r = inner_.match_details(match_ids, token);
    detail_ms += bench::ms_between(t0, steady::now());
    // Requests made (retries included), not ids given: a batch cut by
    // bytes leaves the rest unasked (http_client_options::batch_bytes).
    for (auto& d : r)
      details += static_cast<long>(d.stats.requests);
    return r;
  }

  double list_ms = 0, detail_ms = 0;
  long lists = 0, details = 0;

private:
  upstream::client& inner_;
};

struct sync_figures {
  double seconds = 0;
  double listing_s = 0;
  double details_s = 0;
  double upstream_s = 0;
  long steps = 0;
};

// The sync itself: one engine, one connection, one thread.
sync_figures run_sync(const std::string& url, const std::string& upstream_url,
                      const std::string& label, std::int64_t account,
                      std::int64_t matches, const bench::args& a) {
  pqxx::connection conn(url);
  auto user = db::user_store(conn).ensure(account);
  auto job = db::job_store(conn).create(user.id, account, job_type::full_sync);
  auto started = db::job_store(conn).start(job.id, "bench", 3600);

  upstream::local_rate_budget budget(0);
  upstream::http_client_options o;
  o.base_url = upstream_url;
  o.timeout = 30s;
  o.seed = 1;
  o.detail_lanes = static_cast<int>(a.get_int("lanes", o.detail_lanes));
  upstream::http_client http(o, budget);
  timed_client timed(http);
  sync::engine_settings s;
  s.page_size = static_cast<int>(a.get_int("page-size", 100));
  s.details_per_step = static_cast<int>(a.get_int("details-per-step", s.details_per_step));
  s.lease_s = 3600;
  sync::sync_engine engine(*started, {started->id, "bench", started->attempt}, timed, s);
  upstream::cancel_token token;

  int backend = pqxx::nontransaction(conn).exec1("SELECT pg_backend_pid()")[0].as<int>();
  auto fakes = bench::children_named("fake_opendota");
  int fake_pid = fakes.empty() ? 0 : fakes.front();
  double cpu_self0 = bench::cpu_seconds(0);
  double cpu_fake0 = fake_pid ? bench::cpu_seconds(fake_pid) : 0;
  double cpu_pg0 = bench::cpu_seconds(backend);
  double wait_pg0 = bench::runqueue_wait_seconds(backend);
  long rss_before = bench::self_rss_kb();

  sync_figures f;
  bench::rss_sampler sampler(5ms);
  auto t0 = steady::now();
  auto phase_start = t0;
  bool listing = true;
  for (;;) {
    auto r = engine.step(conn, token);
    ++f.steps;
    if (listing && engine.job().phase && *engine.job().phase == "details") {
      auto now = steady::now();
      f.listing_s = bench::ms_between(phase_start, now) / 1000;
      phase_start = now;
      listing = false;
    }
    if (r != sync::step_result::more)
      break;
  }
  auto t1 = steady::now();
  sampler.stop();
  f.seconds = bench::ms_between(t0, t1) / 1000;
  f.details_s = bench::ms_between(phase_start, t1) / 1000;
  f.upstream_s = (timed.list_ms + timed.detail_ms) / 1000;

  double cpu_self = bench::cpu_seconds(0) - cpu_self0;
  double cpu_fake = fake_pid ? bench::cpu_seconds(fake_pid) - cpu_fake0 : 0;
  double cpu_pg = bench::cpu_seconds(backend) - cpu_pg0;
  double wait_pg = bench::runqueue_wait_seconds(backend) - wait_pg0;

  auto status = db::job_store(conn).find(started->id)->status;
  pqxx::nontransaction tx(conn);
  auto stored = tx.exec_params1("SELECT count(*) FROM matches WHERE account_id = $1 "
                                "AND details_state = 'fetched'", account)[0].as<long>();
  if (status != job_status::completed || stored != matches)
    throw std::runtime_error(std::string("sync incomplete: status ") + to_string(status) +
                             ", " + std::to_string(stored) + " of " +
                             std::to_string(matches) + " stored with details");

  auto n = label + "_" + std::to_string(matches);
  bench::result(name, n + "_seconds", f.seconds, "s");
  bench::result(name, n + "_matches_per_s", matches / f.seconds, "matches/s");
  bench::result(name, n + "_listing_seconds", f.listing_s, "s");
  bench::result(name, n + "_details_seconds", f.details_s, "s");
  bench::result(name, n + "_upstream_call_seconds", f.upstream_s, "s");
  bench::result(name, n + "_upstream_requests", timed.lists + timed.details, "requests");
  bench::result(name, n + "_steps", f.steps, "steps");
  bench::result(name, n + "_cpu_bench_process", cpu_self, "s");
  bench::result(name, n + "_cpu_fake_upstream", cpu_fake, "s");
  bench::result(name, n + "_cpu_pg_backend", cpu_pg, "s");
  bench::result(name, n + "_runqueue_wait_pg_backend", wait_pg, "s");
  bench::result(name, n + "_rss_before_kb", rss_before, "kB");
  bench::result(name, n + "_rss_peak_kb", sampler.peak_kb(), "kB");
  bench::result(name, n + "_vmhwm_kb", bench::self_hwm_kb(), "kB");
  return f;
}

std::string http_get(httplib::Client& cli, const std::string& path) {
  auto res = cli.Get(path.c_str());
  if (!res || res->status != 200)
    throw std::runtime_error("GET " + path + " failed");
  return res->body;
}

// The same rows as the sync stored, COPYed twice into empty tables shaped
// like the real ones (same columns, indexes, compression): into today's
// schema before migration 008 (each account's row holds its details as
// jsonb, compressed with the default pglz), and into the schema we chose
// (the row without details, plus match_details: json with lz4). The details
// are the texts the sync stored, a pool of at most 1,000 cycled for longer
// histories. Returns the seconds of each.
struct copy_figures {
  double today_s = 0;
  double ours_s = 0;
};

copy_figures run_copies(const std::string& url, test::fake_opendota& fake,
                        std::int64_t account, std::int64_t matches) {
  auto history = fake.history(account);
  struct row {
    std::int64_t match_id;
    int player_slot, duration, game_mode, lobby_type, hero_id, kills, deaths, assists;
    bool radiant_win;
    std::int64_t start_time;
    std::string summary;
  };
  std::vector<row> rows;
  rows.reserve(history.size());
  for (auto& m : history)
    rows.push_back({m["match_id"].get<std::int64_t>(), m["player_slot"].get<int>(),
                    m["duration"].get<int>(), m["game_mode"].get<int>(),
                    m["lobby_type"].get<int>(), m["hero_id"].get<int>(),
                    m["kills"].get<int>(), m["deaths"].get<int>(),
                    m["assists"].get<int>(), m["radiant_win"].get<bool>(),
                    m["start_time"].get<std::int64_t>(), m.dump()});
  history = nullptr;
  pqxx::connection conn(url);
  std::vector<std::string> pool;
  {
    pqxx::nontransaction tx(conn);
    for (auto r : tx.exec("SELECT details::text FROM match_details ORDER BY match_id LIMIT 1000")) {
      pool.push_back(r[0].as<std::string>());
    }
    tx.exec("DROP TABLE IF EXISTS copy_today, copy_ours_rows, copy_ours_details");
    tx.exec("CREATE TABLE copy_today (LIKE matches INCLUDING ALL)");
    tx.exec("ALTER TABLE copy_today ADD COLUMN details jsonb, "
            "ADD COLUMN details_fingerprint bigint, ADD COLUMN details_version jsonb");
    tx.exec("CREATE TABLE copy_ours_rows (LIKE matches INCLUDING ALL)");
    tx.exec("CREATE TABLE copy_ours_details (LIKE match_details INCLUDING ALL)");
  }
  if (pool.empty())
    throw std::runtime_error("no stored details to copy");
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < rows.size(); ++i)
    bytes += pool[i % pool.size()].size();
  const std::vector<std::string> row_columns{
    "account_id", "match_id", "player_slot", "radiant_win", "duration", "game_mode",
    "lobby_type", "hero_id", "start_time", "kills", "deaths", "assists", "summary",
    "details_state", "changed_by_job"};

  auto timed = [&](const std::string& label, auto&& copy) {
    int backend = pqxx::nontransaction(conn).exec1("SELECT pg_backend_pid()")[0].as<int>();
    double cpu_self0 = bench::cpu_seconds(0), cpu_pg0 = bench::cpu_seconds(backend);
    auto t0 = steady::now();
    {
      pqxx::work tx(conn);
      copy(tx);
      tx.commit();
    }
    double s = bench::ms_between(t0, steady::now()) / 1000;
    auto n = label + "_" + std::to_string(matches);
    bench::result(name, n + "_seconds", s, "s");
    bench::result(name, n + "_rows_per_s", matches / s, "rows/s");
    bench::result(name, n + "_cpu_bench_process", bench::cpu_seconds(0) - cpu_self0, "s");
    bench::result(name, n + "_cpu_pg_backend", bench::cpu_seconds(backend) - cpu_pg0, "s");
    return s;
  };
  copy_figures f;
  auto columns_with = [&](std::vector<std::string> extra) {
    auto c = row_columns;
    c.insert(c.end(), extra.begin(), extra.end());
    return c;
  };
  f.today_s = timed("copy_today_schema", [&](pqxx::work& tx) {
    pqxx::stream_to out(tx, "copy_today", columns_with({"details"}));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      auto& r = rows[i];
      out << std::make_tuple(account, r.match_id, r.player_slot, r.radiant_win, r.duration,
                             r.game_mode, r.lobby_type, r.hero_id, r.start_time, r.kills,
                             r.deaths, r.assists, r.summary, std::string("fetched"),
                             std::int64_t(1), pool[i % pool.size()]);
    }
    out.complete();
  });
  f.ours_s = timed("copy_our_schema", [&](pqxx::work& tx) {
    {
      pqxx::stream_to out(tx, "copy_ours_rows", row_columns);
      for (auto& r : rows)
        out << std::make_tuple(account, r.match_id, r.player_slot, r.radiant_win, r.duration,
                               r.game_mode, r.lobby_type, r.hero_id, r.start_time, r.kills,
                               r.deaths, r.assists, r.summary, std::string("fetched"),
                               std::int64_t(1));
      out.complete();
    }
    pqxx::stream_to out(tx, "copy_ours_details",
                        std::vector<std::string>{"match_id", "details"});
    for (std::size_t i = 0; i < rows.size(); ++i)
      out << std::make_tuple(rows[i].match_id, pool[i % pool.size()]);
    out.complete();
  });
  pqxx::nontransaction tx(conn);
  for (auto table : {"copy_today", "copy_ours_rows", "copy_ours_details"}) {
    auto stored = tx.exec(std::string("SELECT count(*) FROM ") + table)[0][0].as<long>();
    if (stored != matches)
      throw std::runtime_error(std::string("COPY stored ") + std::to_string(stored) +
                               " rows in " + table);
  }
  auto n = std::to_string(matches);
  bench::result(name, "copy_" + n + "_detail_bytes", static_cast<double>(bytes), "B");
  bench::result(name, "copy_" + n + "_distinct_details", static_cast<double>(pool.size()),
                "details");
  auto size_of = [&](const char* table) {
    return tx.exec(std::string("SELECT pg_total_relation_size('") + table + "')")[0][0]
      .as<double>();
  };
  bench::result(name, "copy_today_schema_" + n + "_table_bytes", size_of("copy_today"), "B");
  bench::result(name, "copy_our_schema_" + n + "_table_bytes",
                size_of("copy_ours_rows") + size_of("copy_ours_details"), "B");
  tx.exec("DROP TABLE copy_today, copy_ours_rows, copy_ours_details");
  return f;
}

// Where a detail's time goes, measured apart from the engine: the HTTP round
// trip with a new connection each time (as http_client does) and with
// keep-alive, and the JSON parse + dump the engine does per detail.
void run_breakdown(test::fake_opendota& fake, std::int64_t account, int count) {
  auto history = fake.history(account);
  count = std::min<int>(count, static_cast<int>(history.size()));
  std::vector<std::string> paths;
  for (int i = 0; i < count; ++i)
    paths.push_back("/api/matches/" +
                    std::to_string(history[i]["match_id"].get<std::int64_t>()));
  std::string body;
  {
    auto t0 = steady::now();
    for (auto& p : paths) {
      httplib::Client cli("127.0.0.1", fake.port());
      cli.set_keep_alive(false);
      body = http_get(cli, p);
    }
    bench::result(name, "detail_http_new_connection_ms",
                  bench::ms_between(t0, steady::now()) / count, "ms/request");
  }
  {
    httplib::Client cli("127.0.0.1", fake.port());
    cli.set_keep_alive(true);
    auto t0 = steady::now();
    for (auto& p : paths)
      body = http_get(cli, p);
    bench::result(name, "detail_http_keep_alive_ms",
                  bench::ms_between(t0, steady::now()) / count, "ms/request");
  }
  {
    // Keep-alive without Nagle: small requests on a reused connection
    // otherwise wait for the peer's delayed ACK.
    httplib::Client cli("127.0.0.1", fake.port());
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    auto t0 = steady::now();
    for (auto& p : paths)
      body = http_get(cli, p);
    bench::result(name, "detail_http_keep_alive_nodelay_ms",
                  bench::ms_between(t0, steady::now()) / count, "ms/request");
  }
  {
    // The same against the in-process static upstream (TCP_NODELAY set):
    // the HTTP cost without the fake's per-detail rendering.
    auto detail = nlohmann::json::parse(body);
    bench::static_upstream fixed(history, detail);
    auto port = std::stoi(fixed.url().substr(fixed.url().rfind(':') + 1));
    auto t0 = steady::now();
    for (auto& p : paths) {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(false);
      http_get(cli, p);
    }
    bench::result(name, "detail_http_static_new_connection_ms",
                  bench::ms_between(t0, steady::now()) / count, "ms/request");
    httplib::Client cli("127.0.0.1", port);
    cli.set_keep_alive(true);
    cli.set_tcp_nodelay(true);
    t0 = steady::now();
    for (auto& p : paths)
      http_get(cli, p);
    bench::result(name, "detail_http_static_keep_alive_ms",
                  bench::ms_between(t0, steady::now()) / count, "ms/request");
  }
  {
    auto t0 = steady::now();
    std::size_t sink = 0;
    for (int i = 0; i < count; ++i)
      sink += nlohmann::json::parse(body).size();
    auto t1 = steady::now();
    auto j = nlohmann::json::parse(body);
    for (int i = 0; i < count; ++i)
      sink += j.dump().size();
    auto t2 = steady::now();
    bench::result(name, "detail_json_parse_ms", bench::ms_between(t0, t1) / count, "ms/detail");
    bench::result(name, "detail_json_dump_ms", bench::ms_between(t1, t2) / count, "ms/detail");
    if (sink == 0)
      std::cerr << "";
  }
}

}  // namespace

int main(int argc, char** argv) try {
  bench::args a(argc, argv);
  auto matches = a.get_int("matches", 20000);
  int detail_bytes = static_cast<int>(a.get_int("detail-bytes", 20000));
  // Real OpenDota shapes (issue 16): about 14 KB unparsed, 250 KB parsed,
  // `--parsed-percent` of them parsed; CJK names; the account's match ids
  // above 2^32. --real 0: details of --detail-bytes, as before.
  bool real = a.get_int("real", 1) != 0;
  int parsed_percent = static_cast<int>(a.get_int("parsed-percent", 30));
  const std::int64_t account = real ? 5000 : 4242;

  test::fake_opendota::options fo;
  fo.threads = 8;
  fo.detail_bytes = detail_bytes;
  test::fake_opendota fake(fo);
  fake.set_detail_size(detail_bytes);
  if (real)
    fake.set_real_shapes(true, parsed_percent);
  fake.set_history_size(account, matches);
  auto url = bench::fresh_database("bench_ingest_" + std::to_string(matches));

  // The upstream: the fake itself, or the in-process static one.
  std::unique_ptr<bench::static_upstream> fixed;
  std::string upstream_url = fake.url();
  std::string label = real ? "sync-real" + std::to_string(parsed_percent) : "sync";
  // Real shapes: by default the static upstream serves the fake's real
  // details (a pool of 100, the mix of the whole history): the fake renders
  // a 250 KB detail in several ms of the two cores the sync and PostgreSQL
  // share, which OpenDota spends on its own machines.
  if (a.get("upstream", real ? "static" : "fake") == "static") {
    auto history = fake.history(account);
    httplib::Client cli("127.0.0.1", fake.port());
    if (real) {
      std::vector<std::string> pool;
      for (std::size_t k = 0; k < history.size() && k < 100; ++k)
        pool.push_back(http_get(cli, "/api/matches/" + std::to_string(
                                                       history[k]["match_id"].get<std::int64_t>())));
      fixed = std::make_unique<bench::static_upstream>(std::move(history), std::move(pool));
    } else {
      auto detail = nlohmann::json::parse(http_get(
        cli, "/api/matches/" + std::to_string(history[0]["match_id"].get<std::int64_t>())));
      fixed = std::make_unique<bench::static_upstream>(std::move(history), detail);
    }
    upstream_url = fixed->url();
    label += "-static";
  }
  if (auto d = a.get_int("details-per-step", sync::engine_settings{}.details_per_step);
      d != sync::engine_settings{}.details_per_step)
    label += "-batch" + std::to_string(d);

  auto sync = run_sync(url, upstream_url, label, account, matches, a);
  if (a.get_int("copy", 1) != 0) {
    // The sync's rate over each COPY's (issue 16 aims: >= 2 over today's
    // schema, >= 0.6 over ours).
    auto copies = run_copies(url, fake, account, matches);
    auto n = label + "_" + std::to_string(matches);
    bench::result(name, "ingest_vs_copy_today_schema_" + n, copies.today_s / sync.seconds,
                  "ratio");
    bench::result(name, "ingest_vs_copy_our_schema_" + n, copies.ours_s / sync.seconds,
                  "ratio");
  }
  if (a.get_int("breakdown", 0) != 0)
    run_breakdown(fake, account, static_cast<int>(a.get_int("breakdown-count", 2000)));
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_ingest: " << e.what() << "\n";
  return 1;
}
