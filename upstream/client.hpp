// The upstream as the sync engine sees it: two calls that retry, back off,
// honour the rate budget and the cancel token inside, and answer with one of
// a few outcomes. Implemented over HTTP (http_client) and by the built-in
// demo (demo_client).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace matchsync::upstream {

class cancel_token;

/// How a call ended.
enum class result_kind {
  ok,           ///< `data` holds the answer
  not_found,    ///< match_detail only: the upstream has no details (404)
  daily_limit,  ///< the upstream's daily limit is exhausted; `error` says so
  failed,       ///< gave up (retries exhausted, or a non-retryable answer);
                ///< `error` says why
  cancelled,    ///< the token was cancelled; nothing more was requested
};

const char* to_string(result_kind kind);

/// What one call cost, for metrics. Cheap to copy.
struct request_stats {
  /// Requests started (each passed the rate budget).
  int requests = 0;
  /// One entry per request started, in order: the HTTP status, or 0 when no
  /// complete answer came (timeout, reset, truncated body, cancelled).
  std::vector<int> statuses;
  /// Answers that were 429 (rate limited or daily limit).
  int rate_limited = 0;
  /// Time spent waiting for the rate budget.
  std::chrono::milliseconds budget_wait{0};
  /// Time spent waiting between attempts (backoff or Retry-After).
  std::chrono::milliseconds backoff_wait{0};
};

/// The outcome of `list_matches` or `match_detail`.
struct fetch_result {
  result_kind kind = result_kind::failed;
  /// ok only: a JSON array of match summaries (newest first) for a list, a
  /// JSON object for a detail. Unknown fields are kept.
  nlohmann::json data;
  /// daily_limit and failed: one line for the job's error message; never
  /// contains the api key. Empty otherwise.
  std::string error;
  request_stats stats;

  bool ok() const { return kind == result_kind::ok; }
};

using list_result = fetch_result;
using detail_result = fetch_result;

/// An OpenDota-like upstream.
///
/// One client object serves one job at a time: calls on the same object are
/// not meant to run concurrently (implementations serialize them). Different
/// client objects may run in parallel; they share only the rate budget.
class client {
public:
  virtual ~client() = default;

  /// One page of the account's match history, newest first:
  /// `GET /api/players/{account_id}/matches?limit=&offset=&significant=0`.
  /// An empty array means the history ends before `offset`. Never
  /// `not_found` (a 404 here is `failed`).
  virtual list_result list_matches(std::int64_t account_id, int limit,
                                   int offset, cancel_token& token) = 0;

  /// The whole match object: `GET /api/matches/{match_id}`. `not_found` when
  /// the upstream has no details for it.
  virtual detail_result match_detail(std::int64_t match_id,
                                     cancel_token& token) = 0;
};

}  // namespace matchsync::upstream
