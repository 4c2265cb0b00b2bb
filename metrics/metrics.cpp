#include "metrics/metrics.hpp"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace matchsync {

using namespace prometheus;

struct metrics::impl {
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  Family<Counter>& upstream = BuildCounter()
    .Name("matchsync_upstream_requests_total")
    .Help("Upstream requests started, by HTTP status (0 = no answer)")
    .Register(*registry);
  Counter& rate_waits = BuildCounter()
    .Name("matchsync_rate_limit_waits_total")
    .Help("Requests that waited for the rate budget or a 429")
    .Register(*registry).Add({});
  Counter& rate_wait_seconds = BuildCounter()
    .Name("matchsync_rate_limit_wait_seconds_total")
    .Help("Time spent waiting for the rate budget")
    .Register(*registry).Add({});
  Counter& backoff_seconds = BuildCounter()
    .Name("matchsync_upstream_backoff_seconds_total")
    .Help("Time spent backing off between upstream attempts")
    .Register(*registry).Add({});
  Counter& upserted = BuildCounter()
    .Name("matchsync_matches_upserted_total")
    .Help("Match rows inserted or changed")
    .Register(*registry).Add({});
  Counter& repaired = BuildCounter()
    .Name("matchsync_upstream_details_repaired_total")
    .Help("Match details stored with the escapes jsonb refuses (\\u0000, lone "
          "surrogates) replaced by U+FFFD")
    .Register(*registry).Add({});
  Counter& pruned = BuildCounter()
    .Name("matchsync_jobs_pruned_total")
    .Help("Terminal sync jobs deleted by job retention (matches never are)")
    .Register(*registry).Add({});
  Histogram& cancel = BuildHistogram()
    .Name("matchsync_cancel_latency_seconds")
    .Help("Cancel request to job stopped and written")
    .Register(*registry)
    .Add({}, Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1, 0.25, 0.5, 1, 2.5, 5});
  Family<Counter>& http_requests = BuildCounter()
    .Name("matchsync_http_requests_total")
    .Help("HTTP requests by method, route and status")
    .Register(*registry);
  Family<Histogram>& http_latency = BuildHistogram()
    .Name("matchsync_http_request_duration_seconds")
    .Help("HTTP request latency by route")
    .Register(*registry);
  Gauge& running = BuildGauge()
    .Name("matchsync_running_jobs")
    .Help("Jobs running on this process's slots")
    .Register(*registry).Add({});
  Gauge& workers = BuildGauge()
    .Name("matchsync_connected_workers")
    .Help("Worker nodes connected to this coordinator")
    .Register(*registry).Add({});
  Gauge& quota_used = BuildGauge()
    .Name("matchsync_upstream_daily_quota_used")
    .Help("Upstream requests counted today (the upstream's day), whole cluster")
    .Register(*registry).Add({});
  Gauge& quota_left = BuildGauge()
    .Name("matchsync_upstream_daily_quota_left")
    .Help("Upstream requests left today under MATCHSYNC_UPSTREAM_DAILY_LIMIT (+Inf: no limit)")
    .Register(*registry).Add({});
  Family<Gauge>& jobs = BuildGauge()
    .Name("matchsync_jobs")
    .Help("Sync jobs by type and status")
    .Register(*registry);
  job_counts counts;

  // The series of one (method, route, status). Family::Add builds a label
  // map, hashes it and takes the family's lock on every call; every HTTP
  // request records one, from up to 256 threads, so the series found once
  // are kept here and looked up under a shared lock.
  struct http_series {
    Counter* requests;
    Histogram* latency;
  };
  std::shared_mutex http_mutex;
  std::unordered_map<std::string, http_series> http_cache;

  http_series& http_for(const std::string& method, const std::string& route,
                        int status) {
    std::string key = method + ' ' + route + ' ' + std::to_string(status);
    {
      std::shared_lock<std::shared_mutex> lock(http_mutex);
      if (auto it = http_cache.find(key); it != http_cache.end())
        return it->second;
    }
    std::unique_lock<std::shared_mutex> lock(http_mutex);
    auto& requests = http_requests.Add(
      {{"method", method}, {"route", route}, {"status", std::to_string(status)}});
    auto& latency = http_latency.Add(
      {{"route", route}},
      Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                  0.05, 0.1, 0.25, 0.5, 1, 2.5});
    // Never erased: references into the cache stay valid.
    return http_cache.try_emplace(key, http_series{&requests, &latency}).first->second;
  }
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

void metrics::upstream_request(int status) {
  impl_->upstream.Add({{"status", std::to_string(status)}}).Increment();
}

void metrics::rate_limit_wait(double seconds) {
  impl_->rate_waits.Increment();
  impl_->rate_wait_seconds.Increment(seconds);
}

void metrics::backoff_wait(double seconds) { impl_->backoff_seconds.Increment(seconds); }

void metrics::matches_upserted(double n) { impl_->upserted.Increment(n); }

void metrics::jobs_pruned(double n) { impl_->pruned.Increment(n); }

void metrics::details_repaired(double n) { impl_->repaired.Increment(n); }

void metrics::cancel_latency(double seconds) { impl_->cancel.Observe(seconds); }

void metrics::http_request(const std::string& method, const std::string& route,
                           int status, double seconds) {
  auto& series = impl_->http_for(method, route, status);
  series.requests->Increment();
  series.latency->Observe(seconds);
}

void metrics::set_running_jobs(double n) { impl_->running.Set(n); }

void metrics::set_connected_workers(double n) { impl_->workers.Set(n); }

void metrics::set_daily_quota(double used, double left) {
  impl_->quota_used.Set(used);
  impl_->quota_left.Set(left);
}

job_counts& metrics::jobs() { return impl_->counts; }

std::string metrics::serialize() const {
  // The gauge follows the coordinator's counts at each scrape; a scrape
  // never asks the database.
  for (auto& c : impl_->counts.snapshot())
    impl_->jobs.Add({{"type", to_string(c.type)}, {"status", to_string(c.status)}})
      .Set(static_cast<double>(c.n));
  return TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace matchsync
