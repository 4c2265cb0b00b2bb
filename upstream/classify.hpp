// What an upstream answer means for the caller, decided by a pure function
// of the answer alone, so that every branch of SPEC §2 is unit-tested
// without a network.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace matchsync::upstream {

/// What the caller should do with one answer.
enum class answer_kind {
  ok,            ///< `data` (a list) or `text` (a detail) holds the checked JSON
  not_found,     ///< 404: the upstream has no such thing; do not retry
  rate_limited,  ///< 429: wait `retry_after` if set, else for the next clock
                 ///< minute (OpenDota never sends Retry-After); retry
  daily_limit,   ///< 429 whose JSON body says the daily limit is exceeded:
                 ///< stop until the upstream's day starts again
  key_refused,   ///< 400 about the API key (malformed or revoked): every
                 ///< request will get it; fail the job, naming the setting
  retryable,     ///< 5xx, 408, no answer, malformed or wrongly shaped JSON
  failed,        ///< any other status (401, 403, 400, 3xx...): retrying
                 ///< cannot help
};

/// The JSON shape a successful answer must have.
enum class expected_shape {
  match_list,    ///< an array of objects, each with an integer `match_id`
  match_list_text,  ///< the same, checked without a tree and kept as text
                    ///< (a whole history: 16 MB of nodes for 10,000 rows)
  match_detail,  ///< an object
  account,       ///< an object (parsed: its `profile` is read)
};

/// The verdict on one answer.
struct answer {
  answer_kind kind = answer_kind::failed;
  /// The parsed body, for `ok` of a match list only.
  nlohmann::json data;
  /// The body as received, for `ok` of a match detail or a match_list_text
  /// only: checked to be well-formed JSON of its shape, but not parsed
  /// into a tree.
  std::string text;
  /// For `ok` of a match detail: how many escapes jsonb refuses (`\u0000`,
  /// unpaired surrogates) `text` had replaced by U+FFFD (json_repair.hpp).
  std::size_t repaired_escapes = 0;
  /// The parsed `Retry-After`, for `rate_limited` only.
  std::optional<std::chrono::seconds> retry_after;
  /// Why, for every kind but `ok`: one line, safe to log and to show a user
  /// (it never contains the request's query, hence never the api key).
  std::string message;
};

/// Classifies an HTTP answer: its status, body and `Retry-After` header value
/// (empty when absent). The body is taken by value: a detail's text (tens
/// of KB) moves on into the answer.
answer classify_response(int status, std::string body,
                         const std::string& retry_after,
                         expected_shape shape);

/// What the rate headers of an answer say (SPEC §2).
struct quota_signal {
  /// `X-Rate-Limit-Remaining-Minute` <= 0: no request before the next
  /// clock minute.
  bool minute_spent = false;
  /// `X-Rate-Limit-Remaining-Day` <= 0: no request before the day starts
  /// again.
  bool day_spent = false;
};

/// Reads the two header values (empty when absent; anything but an integer
/// says nothing).
quota_signal read_quota_headers(const std::string& remaining_minute,
                                const std::string& remaining_day);

/// Classifies a request that got no complete answer (connect failure,
/// timeout, reset, truncated body): always retryable, `reason` says which.
answer classify_transport_error(const std::string& reason);

/// True when an error text announces the daily limit: it mentions both
/// "daily" and "limit", in any case.
bool is_daily_limit_text(const std::string& text);

const char* to_string(answer_kind kind);

}  // namespace matchsync::upstream
