// Experiments for bench_ingest, to find where a sync's time goes; none of
// this is product code.
//
// - static_upstream: an in-process OpenDota stand-in that serves pre-rendered
//   pages and details (a detail is a template with its match id spliced in),
//   so the upstream costs next to no CPU, unlike the fake, which builds each
//   20 KB detail with nlohmann::json on the same two cores.
// - pipelined_details: the details phase of a full sync with the engine's
//   SQL (match_store::store_detail per match, job_store::update_progress,
//   one transaction per batch) but with K fetcher threads running ahead of
//   the writer, so upstream round trips overlap database commits. With
//   `raw`, the fetched body is stored as received (validated with
//   json::accept) instead of being parsed and dumped again; with
//   `batch_sql`, a batch is written by one statement instead of one per
//   match (batch_store_sql below mirrors match_store's store_detail_sql).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/sync_job.hpp"
#include "persistence/job_store.hpp"

namespace matchsync::bench {

class static_upstream {
public:
  /// Serves `history` (newest first, as the fake lists it) and details made
  /// from `detail_template` (any detail object of the wanted size).
  static_upstream(nlohmann::json history, const nlohmann::json& detail_template);
  ~static_upstream();
  std::string url() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

struct pipeline_settings {
  int fetchers = 4;
  int batch = 10;    ///< details per transaction, as the engine
  int window = 64;   ///< fetched-but-unwritten details at most (memory bound)
  bool raw = false;  ///< store the body as received (no parse + dump)
  /// One statement per batch (arrays unnested server-side, same update
  /// rules as match_store::store_detail) instead of one per match.
  bool batch_sql = false;
};

/// Runs the details phase of `job` (a running full sync whose listing is
/// done) against `upstream_url` and completes the job. Returns the number
/// of details stored.
std::int64_t pipelined_details(pqxx::connection& conn, const sync_job& job,
                               const db::job_fence& fence,
                               const std::string& upstream_url,
                               const pipeline_settings& settings);

}  // namespace matchsync::bench
