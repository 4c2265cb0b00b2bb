// The upstream as the sync engine sees it: two calls that retry, back off,
// honour the rate budget and the cancel token inside, and answer with one of
// a few outcomes. Implemented over HTTP (http_client) and by the built-in
// demo (demo_client).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
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
  key_refused,  ///< the upstream refuses the API key (400): every call will
                ///< be refused; `error` names MATCHSYNC_UPSTREAM_API_KEY
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
  /// Detail answers whose unstorable escapes were replaced by U+FFFD.
  int repaired_details = 0;
};

/// The outcome of `list_matches` or `match_detail`.
struct fetch_result {
  result_kind kind = result_kind::failed;
  /// ok, list only: a JSON array of match summaries (newest first). Unknown
  /// fields are kept.
  nlohmann::json data;
  /// ok, detail only: the match object as JSON text, as the upstream sent it
  /// (checked to be a JSON object). Kept as text: it goes to the database
  /// as is, without a parse and a dump on the way. whole_history: the
  /// listing's text.
  std::string text;
  /// ok, detail only: how many `\u0000` and unpaired surrogate escapes,
  /// which jsonb refuses, `text` had replaced by U+FFFD (json_repair.hpp).
  std::size_t repaired_escapes = 0;
  /// daily_limit and failed: one line for the job's error message; never
  /// contains the api key. Empty otherwise.
  std::string error;
  /// The answer said the upstream's day has no request left
  /// (`X-Rate-Limit-Remaining-Day: 0`): this answer counts, the next won't.
  bool day_spent = false;
  /// daily_limit, or day_spent: when the upstream's day starts again (wall
  /// time since the epoch); the job waits until then (quota wait).
  std::optional<std::chrono::system_clock::duration> resume_at;
  request_stats stats;

  bool ok() const { return kind == result_kind::ok; }
};

/// A wait that holds a job back, told as it happens so that the dashboard
/// can show why progress stalls.
struct wait_notice {
  enum class cause {
    rate_limited,  ///< the upstream answered 429: waiting out Retry-After or backoff
    budget,        ///< waited for the shared request budget (many jobs, low rate)
  };
  cause why = cause::rate_limited;
  std::chrono::milliseconds duration{0};
};

/// "rate_limited" or "budget".
const char* to_string(wait_notice::cause why);

using wait_observer = std::function<void(const wait_notice&)>;

using list_result = fetch_result;
using detail_result = fetch_result;

/// Whether an answer of this kind ends the batch it belongs to: nothing
/// more may be asked of the upstream for now.
inline bool stops_batch(result_kind kind) {
  return kind == result_kind::daily_limit || kind == result_kind::key_refused ||
         kind == result_kind::cancelled;
}

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
  /// An empty array means the history ends before `offset`. `limit` < 1
  /// asks for the whole history in one answer (no `limit`, no `offset`:
  /// one request whatever its length). Never `not_found` (a 404 here is
  /// `failed`).
  virtual list_result list_matches(std::int64_t account_id, int limit,
                                   int offset, cancel_token& token) = 0;

  /// The whole history in one answer, as list_matches with `limit` < 1,
  /// but `ok` with `text` the JSON array as received (checked to be one
  /// of objects with an integer `match_id`) and no `data`: a history of
  /// 10,000 matches is 2.6 MB of text and 16 MB as a tree. This default
  /// asks list_matches and dumps its answer.
  virtual list_result whole_history(std::int64_t account_id, cancel_token& token);

  /// The account as the upstream knows it: `GET /api/players/{account_id}`.
  /// `ok` with `data` the object (`profile.fh_unavailable` says whether its
  /// match history can be read), `not_found` for an account it does not
  /// know.
  virtual fetch_result account(std::int64_t account_id, cancel_token& token) = 0;

  /// The history's win/loss counts: `GET /api/players/{account_id}/wl
  /// ?significant=0`, `ok` with `data` `{"win", "lose"}` (their sum is the
  /// size of the history the listing shows). Clients that cannot ask
  /// answer `failed` without a request (this default).
  virtual fetch_result win_loss(std::int64_t account_id, cancel_token& token);

  /// The whole match object: `GET /api/matches/{match_id}`. `not_found` when
  /// the upstream has no details for it.
  virtual detail_result match_detail(std::int64_t match_id,
                                     cancel_token& token) = 0;

  /// The details of several matches, one result per id in the same order.
  /// Implementations may fetch them side by side. Once an answer is
  /// `daily_limit`, `key_refused` or `cancelled`, no further request starts: the ids not
  /// fetched by then answer `cancelled`. An implementation may also stop
  /// taking ids once the details it holds reach a size (http_client's
  /// `batch_bytes`): the ids it did not ask answer `cancelled` while the
  /// token is not, and the answered ones are always a prefix. This default
  /// fetches one after another.
  virtual std::vector<detail_result> match_details(
    const std::vector<std::int64_t>& match_ids, cancel_token& token);

  /// Waits worth telling the user are reported to `observer`, on the thread
  /// of the request that waits (one call at a time): a 429's wait before it
  /// starts, a budget wait of at least `budget_notice_after` once it ended.
  /// Set it before the first call.
  void observe_waits(wait_observer observer) { observer_ = std::move(observer); }

  /// A budget wait shorter than this is the normal pace, not news.
  static constexpr std::chrono::milliseconds budget_notice_after{2000};

protected:
  void notify_wait(wait_notice::cause why, std::chrono::milliseconds duration) const {
    if (!observer_)
      return;
    std::lock_guard<std::mutex> lock(observer_mutex_);
    observer_(wait_notice{why, duration});
  }
  void notify_budget_wait(std::chrono::milliseconds waited) const {
    if (waited >= budget_notice_after)
      notify_wait(wait_notice::cause::budget, waited);
  }

private:
  wait_observer observer_;
  mutable std::mutex observer_mutex_;  // lanes of match_details tell at once
};

}  // namespace matchsync::upstream
