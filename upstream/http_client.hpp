// The real upstream: OpenDota (or anything speaking its API, such as the
// test fake) over HTTP or HTTPS.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "upstream/backoff.hpp"
#include "upstream/client.hpp"

namespace matchsync::upstream {

class rate_budget;

/// Settings of one http_client; make_client fills them from the config.
struct http_client_options {
  /// `http(s)://host[:port][/prefix]`; see parse_upstream_url.
  std::string base_url;
  /// Sent as the `api_key` query parameter when not empty. Never logged, and
  /// never part of an error message.
  std::string api_key;
  /// Connect timeout, and the longest silence while waiting for or reading
  /// an answer.
  std::chrono::milliseconds timeout{30000};
  /// Retries after the first attempt for retryable answers (5xx, 408, no
  /// answer, malformed JSON); then the call fails. 429s are waited out
  /// however many come (SPEC §2), a daily-limit body excepted.
  int max_retries = 5;
  backoff_policy backoff;
  /// Seeds the jitter generator; 0 = a random seed.
  std::uint64_t seed = 0;
  /// Connections match_details uses side by side, at most: as many as the
  /// upstream's round trip calls for (lane_count.hpp), so a fast upstream
  /// is fetched on one. Each request still takes its own slot from the rate
  /// budget; this only overlaps their round trips.
  int detail_lanes = 4;
  /// match_details takes no further id once the details it holds reach
  /// this many bytes: a step's batch is bounded by bytes as well as by
  /// count, whatever the mix of 14 KB unparsed and 250 KB parsed details
  /// (README "Memory"). A lane's request in flight still completes, so a
  /// batch may end up to `detail_lanes` details above it.
  std::size_t batch_bytes = 2 * 1024 * 1024;
  /// An upstream answering within this needs no second lane.
  std::chrono::microseconds quick_round_trip = std::chrono::milliseconds(2);
};

/// An upstream client over httplib::Client lanes, each one kept-alive
/// connection whose socket a cancel shuts down: that aborts exactly the
/// requests in flight.
///
/// Every attempt first takes a slot from the rate budget; every wait (budget,
/// backoff, Retry-After) and the request itself are interrupted by the cancel
/// token: the in-flight request's socket is shut down from the cancelling
/// thread, so the call returns `cancelled` promptly and the cancelling thread
/// never blocks on the network.
///
/// One object serves one job at a time: concurrent calls on one object are
/// serialized (correct, but not parallel), and a caller waiting for its turn
/// still returns `cancelled` promptly when its token is cancelled. Only
/// match_details runs requests side by side, on up to `detail_lanes`
/// connections.
class http_client final : public client {
public:
  /// Throws std::invalid_argument (one line naming MATCHSYNC_UPSTREAM_URL)
  /// for a URL that parse_upstream_url refuses. `budget` must outlive the
  /// client.
  http_client(http_client_options options, rate_budget& budget);
  ~http_client() override;

  list_result list_matches(std::int64_t account_id, int limit, int offset,
                           cancel_token& token) override;
  list_result whole_history(std::int64_t account_id, cancel_token& token) override;
  detail_result match_detail(std::int64_t match_id,
                             cancel_token& token) override;
  fetch_result account(std::int64_t account_id, cancel_token& token) override;
  fetch_result win_loss(std::int64_t account_id, cancel_token& token) override;
  std::vector<detail_result> match_details(
    const std::vector<std::int64_t>& match_ids, cancel_token& token) override;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace matchsync::upstream
