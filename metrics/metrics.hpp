// The process's Prometheus series (SPEC §4 /metrics), on prometheus-cpp.
// Thread-safe: updated from actors, pool threads and HTTP threads.
#pragma once

#include <memory>
#include <string>

#include "core/job_counts.hpp"

namespace prometheus {
class Registry;
}

namespace matchsync {

class metrics {
public:
  metrics();
  ~metrics();

  void upstream_request(int status);  ///< status 0 = no answer
  void rate_limit_wait(double seconds);
  void backoff_wait(double seconds);
  void matches_upserted(double n);
  void cancel_latency(double seconds);
  /// Upstream details whose unstorable escapes were replaced by U+FFFD.
  void details_repaired(double n);
  /// Terminal jobs deleted by job retention.
  void jobs_pruned(double n);
  void http_request(const std::string& method, const std::string& route,
                    int status, double seconds);
  void set_running_jobs(double n);
  void set_connected_workers(double n);
  /// Jobs in the database by type and status, as the coordinator counts
  /// them (the matchsync_jobs gauge; absent until the counts are loaded).
  job_counts& jobs();
  /// The upstream day's requests counted cluster-wide, and those left
  /// (+Inf without a daily limit).
  void set_daily_quota(double used, double left);

  /// The text exposition format.
  std::string serialize() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace matchsync
