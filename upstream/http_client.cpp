#include "upstream/http_client.hpp"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <httplib.h>

#include "upstream/cancel_token.hpp"
#include "upstream/classify.hpp"
#include "upstream/http_lane.hpp"
#include "upstream/lane_count.hpp"
#include "upstream/quota_day.hpp"
#include "upstream/rate_budget.hpp"
#include "upstream/url.hpp"

namespace matchsync::upstream {

namespace {

using steady = std::chrono::steady_clock;

std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() -
                                                               start);
}

// httplib's client writes with plain send(): a peer closing mid-request
// would raise SIGPIPE and kill the whole service (a worker node serves no
// HTTP, so nothing else ignores it). An error return is what we want.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL)
      ::signal(SIGPIPE, SIG_IGN);
  });
}

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

upstream_url checked_url(const std::string& text) {
  std::string why;
  auto url = parse_upstream_url(text, &why);
  if (!url)
    throw std::invalid_argument("MATCHSYNC_UPSTREAM_URL '" + text +
                                "' is invalid: " + why);
  return *url;
}

}  // namespace

struct http_client::impl {
  impl(http_client& o, http_client_options opts, rate_budget& b)
    : owner(o),
      options(std::move(opts)),
      url(checked_url(options.base_url)),
      budget(b),
      jitter_source(options.seed != 0 ? options.seed : std::random_device{}()) {
    ignore_sigpipe_once();
    if (options.detail_lanes < 1)
      throw std::invalid_argument("http_client: detail_lanes must be at least 1");
    lanes.resize(static_cast<std::size_t>(options.detail_lanes));
    lanes[0] = std::make_unique<http_lane>(url.origin(), options);
  }

  // Lanes beyond the first are made on first use: most jobs of a node are
  // small incrementals that never fetch details side by side.
  http_lane& lane(std::size_t index) {
    std::lock_guard<std::mutex> lock(lanes_mutex);
    if (!lanes[index])
      lanes[index] = std::make_unique<http_lane>(url.origin(), options);
    return *lanes[index];
  }

  // `path` goes into error messages; the query (which may carry the api
  // key) never does.
  // With `close_after`, the lane's connection is closed when the fetch
  // ends, still in this caller's turn (never under another's request).
  fetch_result fetch(http_lane& lane, const std::string& path,
                     const std::string& query, expected_shape shape,
                     cancel_token& token, bool close_after) {
    fetch_result result;
    // One call at a time per lane (see the header); a second caller still
    // notices its cancel while it waits for the first.
    http_lane::turn turn(lane);
    if (!turn.take(token)) {
      result.kind = result_kind::cancelled;
      return result;
    }
    struct closer {
      http_lane& lane;
      bool on;
      ~closer() {
        if (on)
          lane.close_idle();
      }
    } close_at_end{lane, close_after};
    auto target = url.base_path + path;
    std::string full_query = query;
    if (!options.api_key.empty())
      full_query += (full_query.empty() ? "" : "&") + std::string("api_key=") +
                    percent_encode(options.api_key);
    if (!full_query.empty())
      target += "?" + full_query;

    auto cancelled = [&] {
      result.kind = result_kind::cancelled;
      result.data = nullptr;
      result.text.clear();
      result.error.clear();
      return result;
    };

    // A 429 is the upstream pacing us (SPEC §2: wait), not a failure: only
    // the other retryable answers count against max_retries. A cancel or the
    // daily limit still ends the wait.
    int failures = 0;
    for (int attempt = 1;; ++attempt) {
      if (token.cancelled())
        return cancelled();
      auto budget_start = steady::now();
      bool granted = budget.acquire(token);
      auto budget_waited = since(budget_start);
      result.stats.budget_wait += budget_waited;
      if (!granted)
        return cancelled();
      owner.notify_budget_wait(budget_waited);
      // The day's quota, cluster-wide: spent means a quota wait, never a
      // request the upstream would refuse (and count).
      if (auto* day = budget.daily()) {
        if (auto resume = day->take()) {
          result.kind = result_kind::daily_limit;
          result.resume_at = resume;
          result.error = "the upstream's daily quota is used up";
          return result;
        }
      }

      result.stats.requests += 1;
      auto sent = steady::now();
      auto raw = lane.send(target, token);
      if (raw.answered)
        note_round_trip(std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - sent));
      result.stats.statuses.push_back(raw.answered ? raw.status : 0);
      if (token.cancelled())
        return cancelled();

      // The upstream's own count wins over ours (SPEC §2): a spent minute
      // holds the shared budget until the next clock minute; a spent day
      // is told to the caller, whose daily budget waits for the next.
      if (raw.answered) {
        auto quota = read_quota_headers(raw.remaining_minute, raw.remaining_day);
        if (quota.minute_spent)
          budget.hold_until_next_minute();
        if (quota.day_spent) {
          result.day_spent = true;
          result.resume_at = day_spent();
        }
      }
      auto verdict =
        raw.answered
          ? classify_response(raw.status, std::move(raw.body), raw.retry_after, shape)
          : classify_transport_error(raw.transport_error);
      if (raw.answered && raw.status == 429)
        result.stats.rate_limited += 1;

      switch (verdict.kind) {
        case answer_kind::ok:
          result.kind = result_kind::ok;
          result.data = std::move(verdict.data);
          result.text = std::move(verdict.text);
          result.repaired_escapes = verdict.repaired_escapes;
          result.stats.repaired_details += verdict.repaired_escapes > 0 ? 1 : 0;
          return result;
        case answer_kind::not_found:
          // A detail or an account may be missing; a player's match list
          // never is, so a 404 there means a wrong URL, and fails the call.
          if (shape == expected_shape::match_list || shape == expected_shape::match_list_text) {
            result.kind = result_kind::failed;
            result.error = "GET " + path + ": " + verdict.message;
          } else {
            result.kind = result_kind::not_found;
          }
          return result;
        case answer_kind::daily_limit:
          result.kind = result_kind::daily_limit;
          result.error = verdict.message;
          result.resume_at = day_spent();
          return result;
        case answer_kind::key_refused:
          result.kind = result_kind::key_refused;
          result.error = verdict.message;
          return result;
        case answer_kind::failed:
          result.kind = result_kind::failed;
          result.error = "GET " + path + ": " + verdict.message;
          return result;
        case answer_kind::rate_limited:
        case answer_kind::retryable:
          break;
      }

      if (verdict.kind == answer_kind::retryable && ++failures > options.max_retries) {
        result.kind = result_kind::failed;
        result.error = "GET " + path + ": gave up after " +
                       std::to_string(attempt) + " attempts: " +
                       verdict.message;
        return result;
      }
      // Retry-After is honoured to the second, without jitter: the upstream
      // said when. A 429 without it (OpenDota never sends one) means the
      // clock minute is spent: the shared budget holds until the next one,
      // and the next acquire waits for it. Anything else backs off
      // exponentially with jitter.
      std::chrono::milliseconds delay{0};
      if (verdict.retry_after) {
        delay = std::chrono::milliseconds(*verdict.retry_after);
      } else if (verdict.kind == answer_kind::rate_limited) {
        budget.hold_until_next_minute();
        owner.notify_wait(wait_notice::cause::rate_limited, until_next_minute());
      } else {
        delay = backoff_delay(attempt, jitter(), options.backoff);
      }
      if (verdict.kind == answer_kind::rate_limited && delay.count() > 0)
        owner.notify_wait(wait_notice::cause::rate_limited, delay);
      auto wait_start = steady::now();
      bool waited = token.wait_for(delay);
      result.stats.backoff_wait += since(wait_start);
      if (!waited)
        return cancelled();
    }
  }

  fetch_result fetch_detail(http_lane& lane, std::int64_t match_id,
                            cancel_token& token, bool close_after) {
    return fetch(lane, "/api/matches/" + std::to_string(match_id), "",
                 expected_shape::match_detail, token, close_after);
  }

  // The upstream said its day is spent: the shared quota learns it, and
  // the wait lasts until the next day starts (00:00 UTC without a quota
  // of our own to say when the upstream's day starts).
  std::chrono::system_clock::duration day_spent() {
    if (auto* day = budget.daily())
      return day->spent();
    return next_quota_day(std::chrono::system_clock::now().time_since_epoch(), 0);
  }

  static std::chrono::milliseconds until_next_minute() {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto into = now % std::chrono::minutes(1);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::minutes(1) - into);
  }

  double jitter() {
    std::lock_guard<std::mutex> lock(jitter_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(jitter_source);
  }

  void note_round_trip(std::chrono::microseconds sample) {
    std::lock_guard<std::mutex> lock(round_trip_mutex);
    round_trip = next_round_trip(round_trip, sample);
  }

  int detail_lanes_now() {
    std::lock_guard<std::mutex> lock(round_trip_mutex);
    return lanes_for(round_trip, options.detail_lanes, options.quick_round_trip);
  }

  http_client& owner;  // whose observer hears of waits
  http_client_options options;
  upstream_url url;
  rate_budget& budget;
  std::mutex jitter_mutex;
  std::mt19937_64 jitter_source;
  std::mutex lanes_mutex;
  std::vector<std::unique_ptr<http_lane>> lanes;
  std::mutex round_trip_mutex;
  std::optional<std::chrono::microseconds> round_trip;  // of answered requests
};

http_client::http_client(http_client_options options, rate_budget& budget)
  : impl_(std::make_unique<impl>(*this, std::move(options), budget)) {}

http_client::~http_client() = default;

list_result http_client::list_matches(std::int64_t account_id, int limit,
                                      int offset, cancel_token& token) {
  // One request: its connection is not kept (see match_details).
  // Without `limit` OpenDota answers the whole history (SPEC §2).
  std::string query = limit < 1 ? std::string("significant=0")
                                : "limit=" + std::to_string(limit) + "&offset=" +
                                    std::to_string(offset) + "&significant=0";
  return impl_->fetch(impl_->lane(0),
                      "/api/players/" + std::to_string(account_id) + "/matches", query,
                      expected_shape::match_list, token, true);
}

list_result http_client::whole_history(std::int64_t account_id, cancel_token& token) {
  // Checked without a tree, kept as text (client.hpp).
  return impl_->fetch(impl_->lane(0),
                      "/api/players/" + std::to_string(account_id) + "/matches",
                      "significant=0", expected_shape::match_list_text, token, true);
}

fetch_result http_client::account(std::int64_t account_id, cancel_token& token) {
  return impl_->fetch(impl_->lane(0), "/api/players/" + std::to_string(account_id), "",
                      expected_shape::account, token, true);
}

fetch_result http_client::win_loss(std::int64_t account_id, cancel_token& token) {
  // The same matches as the listing (significant=0, SPEC §2).
  return impl_->fetch(impl_->lane(0), "/api/players/" + std::to_string(account_id) + "/wl",
                      "significant=0", expected_shape::account, token, true);
}

detail_result http_client::match_detail(std::int64_t match_id,
                                        cancel_token& token) {
  return impl_->fetch_detail(impl_->lane(0), match_id, token, true);
}

std::vector<detail_result> http_client::match_details(
  const std::vector<std::int64_t>& match_ids, cancel_token& token) {
  if (match_ids.empty())
    return {};
  // As many lanes as the upstream's round trip calls for (lane_count.hpp).
  auto lanes = std::min<std::size_t>(
    {impl_->lanes.size(), match_ids.size(),
     static_cast<std::size_t>(impl_->detail_lanes_now())});
  // Each lane takes the next id until none is left or one answer says that
  // nothing more may be asked (daily limit, cancel); a lane that stops early
  // leaves the ids no lane took as `cancelled` (see client.hpp).
  std::vector<detail_result> results(match_ids.size());
  for (auto& r : results)
    r.kind = result_kind::cancelled;
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> held{0};  // bytes of the details answered
  auto run_lane = [&](std::size_t index) {
    auto& lane = impl_->lane(index);
    while (!stop.load()) {
      auto k = next.fetch_add(1);
      if (k >= match_ids.size())
        break;
      auto r = impl_->fetch_detail(lane, match_ids[k], token, false);
      if (stops_batch(r.kind) || held.fetch_add(r.text.size()) + r.text.size() >=
                                   impl_->options.batch_bytes)
        stop = true;
      results[k] = std::move(r);
    }
    // Kept alive for this batch only: between steps a job holds no
    // connection to the upstream. A concurrent caller's request on this
    // lane is left alone (its own call ends it).
    http_lane::turn turn(lane);
    if (turn.try_take())
      lane.close_idle();
  };
  std::vector<std::thread> helpers;
  helpers.reserve(lanes - 1);
  for (std::size_t i = 1; i < lanes; ++i) {
    try {
      helpers.emplace_back(run_lane, i);
    } catch (const std::system_error&) {
      break;  // out of threads: the lanes running take the rest
    }
  }
  run_lane(0);
  for (auto& t : helpers)
    t.join();
  return results;
}

}  // namespace matchsync::upstream
