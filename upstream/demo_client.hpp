// MATCHSYNC_UPSTREAM_URL=demo: a built-in upstream with no network, so a new
// user sees real syncs (with progress worth watching, and a cancel that has
// something to interrupt) without an OpenDota key.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "upstream/client.hpp"

namespace matchsync::upstream {

class rate_budget;

/// Settings of the demo upstream; the defaults are what `demo` means.
struct demo_options {
  /// Each request takes a latency drawn uniformly from [min, max].
  std::chrono::milliseconds latency_min{80};
  std::chrono::milliseconds latency_max{150};
  /// Every account gains one new match per interval (0 = never), counted
  /// from `started_at`, so that incremental syncs find something new.
  std::chrono::milliseconds new_match_every{std::chrono::minutes(2)};
  /// When the demo started; default: when the process started.
  std::chrono::steady_clock::time_point started_at = process_start();
  /// Seeds the latency draw; the data does not depend on it.
  std::uint64_t seed = 1;

  /// The time the process started (first use of the demo at the latest).
  static std::chrono::steady_clock::time_point process_start();
};

/// A deterministic upstream inside the process (data in demo_data.hpp).
/// Every call takes a slot from the rate budget like a real request, then
/// "waits for the network" on the cancel token; it never fails otherwise.
/// Thread-safe: calls may run concurrently.
class demo_client final : public client {
public:
  /// `budget` must outlive the client.
  explicit demo_client(rate_budget& budget, demo_options options = {});

  fetch_result account(std::int64_t account_id, cancel_token& token) override;
  list_result list_matches(std::int64_t account_id, int limit, int offset,
                           cancel_token& token) override;
  detail_result match_detail(std::int64_t match_id,
                             cancel_token& token) override;

private:
  // Budget, then latency; false when cancelled on the way.
  bool simulate_request(cancel_token& token, request_stats& stats);
  int current_size(std::int64_t account_id) const;

  rate_budget& budget_;
  demo_options options_;
  std::mutex mutex_;  // guards latency_source_
  std::mt19937_64 latency_source_;
};

}  // namespace matchsync::upstream
