// Operations routes: liveness, readiness, Prometheus metrics, the nodes of
// the cluster, and the OpenAPI document.
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "actors/runtime.hpp"
#include "core/log.hpp"
#include "http/errors.hpp"
#include "http/json_views.hpp"
#include "http/openapi.hpp"
#include "http/routes.hpp"
#include "metrics/metrics.hpp"
#include "persistence/upstream_quota_store.hpp"
#include "upstream/quota_day.hpp"

namespace matchsync::http {

namespace {

using json = nlohmann::ordered_json;

// Jobs by type and status for the matchsync_jobs gauge, read at each scrape.
// A read-only aggregate of sync_jobs kept here, next to its one user.
constexpr const char* job_counts_sql =
  "SELECT job_type::text, status::text, count(*) FROM sync_jobs GROUP BY 1, 2";

void health(api_context&, const call&, httplib::Response& res) {
  send_json(res, 200, {{"status", "ok"}});
}

void ready(api_context& ctx, const call&, httplib::Response& res) {
  auto reason = ctx.svc.readiness ? ctx.svc.readiness() : std::nullopt;
  if (reason)
    send_detail(res, 503, *reason);
  else
    send_json(res, 200, {{"status", "ready"}});
}

void refresh_job_gauges(api_context& ctx) {
  // Every (type, status) pair is set, so a count that fell to zero shows 0.
  std::map<std::pair<std::string, std::string>, double> counts;
  for (auto t : {job_type::incremental_sync, job_type::full_sync})
    for (auto s : {job_status::pending, job_status::running, job_status::completed,
                   job_status::failed, job_status::cancelled})
      counts[{to_string(t), to_string(s)}] = 0;
  ctx.reads().read([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    for (auto row : tx.exec(job_counts_sql))
      counts[{row[0].as<std::string>(), row[1].as<std::string>()}] = row[2].as<double>();
  });
  for (auto& [key, n] : counts)
    ctx.svc.stats->set_jobs(key.first, key.second, n);
  // The day's quota, as every node counts it (SPEC §2).
  auto day = upstream::quota_day_of(std::chrono::system_clock::now().time_since_epoch(),
                                    ctx.cfg.upstream_day_start_minute);
  db::upstream_quota_store::day_state quota;
  ctx.reads().read([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    quota = db::upstream_quota_store::read(tx, upstream::quota_day_date(day));
  });
  auto limit = ctx.cfg.upstream_daily_limit;
  double left = limit == 0 ? std::numeric_limits<double>::infinity()
                           : quota.spent ? 0.0 : std::max<double>(0, limit - quota.used);
  ctx.svc.stats->set_daily_quota(static_cast<double>(quota.used), left);
}

void prometheus(api_context& ctx, const call&, httplib::Response& res) {
  if (!ctx.svc.stats) {
    send_detail(res, 503, "Metrics are not available");
    return;
  }
  try {
    refresh_job_gauges(ctx);
  } catch (const domain_error& e) {
    // The other series are still worth a scrape while the database is away.
    log::warn("metrics: cannot count jobs", {{"error", e.what()}});
  }
  res.status = 200;
  res.set_content(ctx.svc.stats->serialize(), "text/plain; version=0.0.4; charset=utf-8");
}

void workers(api_context& ctx, const call&, httplib::Response& res) {
  json out = json::array();
  if (ctx.svc.jobs != nullptr && !ctx.stopping)
    for (auto& w : ctx.svc.jobs->workers())
      out.push_back({
        {"node", w.node},
        {"host", w.host},
        {"slots", w.slots},
        {"running_jobs", w.running_jobs},
        {"connected_at", w.local && !ctx.svc.started_at.empty() ? ctx.svc.started_at
                                                                : w.connected_at},
        {"last_seen", w.last_seen},
        {"local", w.local},
      });
  send_json(res, 200, out);
}

void openapi(api_context&, const call&, httplib::Response& res) {
  res.status = 200;
  res.set_content(openapi_document(), "application/json");
}

}  // namespace

std::vector<route> ops_routes(api_context& ctx) {
  return {
    make_route("GET", "/health", "/health", false, ctx, health),
    make_route("GET", "/ready", "/ready", false, ctx, ready),
    make_route("GET", "/metrics", "/metrics", false, ctx, prometheus),
    make_route("GET", "/openapi.json", "/openapi.json", false, ctx, openapi),
    make_route("GET", "/workers", "/workers", true, ctx, workers),
  };
}

}  // namespace matchsync::http
