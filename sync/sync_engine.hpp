// The sync engine: one job's work as a sequence of small steps, free of
// actors so it can be tested alone. A step lists one page, or fetches one
// batch of details (unless the step before fetched it ahead), and commits
// the data with the job's counters, phase and resume point in one
// transaction: an interruption loses at most the step in flight, and a job
// rebuilt from its row resumes where it stopped. A step holds a database connection only
// for its short reads and its commit, never while it waits for the upstream.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "core/sync_job.hpp"
#include "persistence/database.hpp"
#include "persistence/job_store.hpp"
#include "sync/listing_pages.hpp"
#include "upstream/client.hpp"

namespace matchsync::upstream {
class cancel_token;
}

namespace matchsync::sync {

/// When a details step fetches the next batch during its own commit.
enum class fetch_ahead_rule {
  when_it_pays,  ///< fetch and commit took about as long (fetch_ahead_pays)
  always,        ///< every step: tests that need the overlap to happen
};

struct engine_settings {
  int page_size = 100;
  /// Details fetched per step: small enough that an interruption loses
  /// little, large enough that commits do not dominate (20 gave 15% more
  /// matches/s than 10 in bench_ingest: the per-step statements and
  /// round trips are shared by twice as many details).
  int details_per_step = 20;
  int lease_s = 15;
  fetch_ahead_rule fetch_ahead = fetch_ahead_rule::when_it_pays;
};

enum class step_result {
  more,       ///< a step was committed; call again
  done,       ///< the job is completed (its row says so)
  cancelled,  ///< the token was cancelled; the step in flight was dropped
  waiting_quota,  ///< the upstream's day is spent: the job's row says until
                  ///< when (resume_at); call again then
};

class sync_engine {
public:
  /// `job` is the job's committed row (fresh or from an earlier attempt);
  /// `fence` the owner identity every write is checked against.
  sync_engine(sync_job job, db::job_fence fence, upstream::client& upstream,
              engine_settings settings);

  /// Runs one step, borrowing a connection from `source` for each database
  /// phase. Throws domain_error: upstream_failed (a list page failed for
  /// good, or the daily limit: the job should fail with the message), fenced
  /// (the database refused the write: the job was cancelled, taken over or
  /// ended elsewhere), storage_unavailable.
  step_result step(db::connection_source& source, upstream::cancel_token& token);

  /// The same on one plain connection (tests, single-threaded tools).
  step_result step(pqxx::connection& conn, upstream::cancel_token& token);

  /// After waiting_quota: when the upstream's day starts again (wall time
  /// since the epoch).
  std::chrono::system_clock::duration resume_at() const { return resume_at_; }

  /// The job as last committed by this engine.
  const sync_job& job() const { return job_; }
  const db::job_fence& fence() const { return fence_; }

  /// Upstream statistics gathered since the last call (for metrics).
  upstream::request_stats take_stats();

private:
  step_result list_step(db::connection_source& source, upstream::cancel_token& token);
  step_result details_step(db::connection_source& source, upstream::cancel_token& token);
  /// After an incremental stopped listing at the mark: asks the history's
  /// size (/wl) and, when the upstream lists more than is stored, lists the
  /// whole history once and stores what arrived below the mark.
  step_result backfill_step(db::connection_source& source, upstream::cancel_token& token);
  static db::job_progress progress_of(const sync_job& job);
  /// Writes `next`'s progress (fenced), commits, and makes `next` the job.
  void commit_as(pqxx::work& tx, const sync_job& next);
  void add_stats(const upstream::request_stats& s);
  /// What an upstream answer means for the step: nullopt = go on (ok);
  /// cancelled or waiting_quota = the step ends so; anything else throws
  /// upstream_failed with `what` and the reason.
  std::optional<step_result> settle(db::connection_source& source, upstream::fetch_result& r,
                                    const std::string& what);
  /// An empty listing: unknown or private accounts fail the job, saying
  /// which; a public empty history goes on.
  std::optional<step_result> check_account(db::connection_source& source,
                                           upstream::cancel_token& token);
  /// Writes the quota wait (fenced) and answers waiting_quota.
  step_result quota_wait(db::connection_source& source,
                         std::optional<std::chrono::system_clock::duration> resume_at);

  sync_job job_;
  db::job_fence fence_;
  upstream::client& upstream_;
  engine_settings settings_;
  upstream::request_stats stats_;
  std::chrono::system_clock::duration resume_at_{};
  /// A full sync's whole history as listed (one request), committed a page
  /// per step; dropped once listing ends.
  std::optional<listing_pages> whole_;
  /// The backfill check is due before the details (backfill_check_due).
  /// Kept in memory only: an engine rebuilt from the row skips it, and the
  /// next incremental asks again.
  bool check_backfill_ = false;
  /// The next batch's details, fetched during the last step's commit, and
  /// the ids they answer (empty: none).
  std::vector<std::int64_t> ahead_ids_;
  std::vector<upstream::detail_result> ahead_;
  /// How long the last batch's fetch and commit took (fetch_ahead_pays).
  std::chrono::nanoseconds last_fetch_{0};
  std::chrono::nanoseconds last_commit_{0};
};

}  // namespace matchsync::sync
