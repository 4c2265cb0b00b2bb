// A test's handle on a fake OpenDota: starts the fake_opendota binary as a
// child process on an ephemeral port and wraps its control routes
// (test/fake_opendota/README.md), so tests script the upstream in C++.
//
//   matchsync::test::fake_opendota fake;          // started, port known
//   fake.set_history_size(42, 250);                // account 42: 250 matches
//   fake.script("/api/matches/.*", {scripted_answer::http_status(503)});
//   ... point the code under test at fake.url() ...
//   auto log = fake.log();                         // what was requested
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace matchsync::test {

class child_process;

/// One answer of a script (POST /_control/script). Build it with the
/// factory functions; `repeat` and `delay_ms` can be set on any of them.
struct scripted_answer {
  /// "pass" | "status" | "daily_limit" | "malformed" | "truncate" | "reset"
  std::string action = "pass";
  int status = 0;                          ///< for "status"
  std::string body;                        ///< empty = a default body
  std::optional<std::string> retry_after;  ///< Retry-After header value
  int delay_ms = 0;                        ///< wait before answering
  int repeat = 1;                          ///< this answer, that many times

  /// The normal answer (use with `delayed` or to let one request through).
  static scripted_answer pass();
  /// The normal answer after `ms` (e.g. a request to cancel mid-flight).
  static scripted_answer delayed(int ms);
  /// Status `status` with an {"error": ...} body (or `body`).
  static scripted_answer http_status(int status, std::string body = {});
  /// 429 with `Retry-After: seconds`, or without the header when nullopt.
  static scripted_answer too_many_requests(std::optional<int> retry_after_s);
  /// 429 {"error":"daily api limit exceeded"}.
  static scripted_answer daily_limit();
  /// 200 with the normal body cut short: invalid JSON, complete HTTP answer.
  static scripted_answer malformed_json();
  /// 200 announcing the full body, sending half, closing: a failed read.
  static scripted_answer truncated_body();
  /// The connection is reset (RST) before any answer.
  static scripted_answer connection_reset();

  /// Fluent setters: `scripted_answer::http_status(503).times(3)`.
  scripted_answer& times(int n);
  scripted_answer& after_ms(int ms);

  nlohmann::json to_json() const;
};

/// One entry of a random fault mix (POST /_control/random_faults): with
/// probability `rate` a request gets `answer`; an answer with `times(n)` is a
/// burst that the next n - 1 matching requests get too.
struct random_fault {
  double rate = 0;
  scripted_answer answer;
};

/// OpenDota's rate limiter (POST /_control/limits): 0 turns a limit off.
struct quota_limits {
  std::int64_t per_minute = 0;  ///< per clock minute; 429 past it
  std::int64_t per_day = 0;     ///< per day, requests without a key only
  std::string day_start_utc = "00:00";
  std::optional<int> retry_after_s;  ///< Retry-After on the limiter's 429s
  std::vector<std::string> revoked_keys;  ///< well-formed keys answered 400
};

/// The limiter's counters (GET /_control/quota).
struct quota_usage {
  std::int64_t minute = 0;  ///< clock minute index (minutes since the epoch)
  std::int64_t used_minute = 0;
  std::int64_t day = 0;
  std::int64_t used_day = 0;
};

/// One API request as the fake saw it (GET /_control/log).
struct logged_request {
  std::size_t seq = 0;
  std::string method;
  std::string path;    ///< e.g. /api/matches/42000001
  std::string query;   ///< raw query string, e.g. limit=100&offset=0&...
  std::map<std::string, std::string> params;  ///< decoded query parameters
  double t_ms = 0;     ///< receive time, ms on the fake's monotonic clock
  int status = 0;      ///< status answered; 0 for a reset
  std::string action;  ///< pass, status, daily_limit, malformed, ...
  bool done = false;   ///< false while the answer is still being delayed
};

/// A running fake_opendota process. Not copyable; stops (SIGKILL) the
/// process when destroyed. Control methods throw std::runtime_error when the
/// fake refuses or cannot be reached.
///
/// Data (see README.md): account N has N % 1000 matches unless set; match
/// ids are `N * 1'000'000 + index + 1` (index 0 = oldest), newest first in
/// lists; details are ~20 KB objects with `match_id`, `version`, `players`.
class fake_opendota {
public:
  struct options {
    std::uint64_t seed = 1;     ///< latency and random-error draws
    int threads = 64;           ///< server pool (delayed answers hold one)
    int detail_bytes = 20000;   ///< default detail size
    std::chrono::milliseconds start_timeout{10000};
    /// The fake gets SIGKILL when the thread that started it exits
    /// (PR_SET_PDEATHSIG), so a crashed test leaves no fake behind. Turn it
    /// off when starting the fake from a thread that ends before the test.
    bool die_with_parent = true;
  };

  fake_opendota();
  explicit fake_opendota(options opts);
  ~fake_opendota();
  fake_opendota(const fake_opendota&) = delete;
  fake_opendota& operator=(const fake_opendota&) = delete;

  /// "http://127.0.0.1:PORT": the upstream base URL for the code under test.
  const std::string& url() const { return url_; }
  int port() const { return port_; }

  /// Ids as the fake makes them.
  static std::int64_t match_id(std::int64_t account_id, std::int64_t index);

  /// Forgets everything: sizes, changes, scripts, faults, latency, log.
  void reset();

  /// Sets the account's history to `size` matches (ids stay the same).
  void set_history_size(std::int64_t account_id, std::int64_t size);
  /// Adds `count` newest matches; returns their ids, newest first.
  std::vector<std::int64_t> append_matches(std::int64_t account_id,
                                           std::int64_t count);
  /// Bumps the match's version (summary and detail change); returns it.
  int change_match(std::int64_t match_id);
  /// The match is not listed (nor counted by /wl) until revealed with
  /// false: an older match OpenDota backfills below the newest ones.
  void set_hidden(std::int64_t match_id, bool hidden = true);
  /// The account's matches list `version: null` with short unparsed
  /// details until parsed (fake_world::set_unparsed); false: as before.
  void set_unparsed(std::int64_t account_id, bool unparsed = true);
  /// `player` played `count` of `owner`'s newest matches too (every other
  /// one): listed in both histories, one detail (fake_world::share).
  std::vector<std::int64_t> share_matches(std::int64_t player, std::int64_t owner,
                                          std::int64_t count);
  /// The match's replay is parsed: it lists a number as `version` and its
  /// details grow fivefold. Returns the version.
  int parse_match(std::int64_t match_id);
  /// The match's detail answers 404 (or, with false, normally again).
  void set_no_details(std::int64_t match_id, bool no_details = true);
  /// The match's detail text holds a lone surrogate escape and a `\u0000`
  /// (fake_world::set_bad_escapes), or, with false, none again.
  void set_bad_escapes(std::int64_t match_id, bool bad = true);
  /// Details carry fields OpenDota computes per request (benchmarks,
  /// rank_tier, personaname, last_login, od_data, teams...), different on
  /// every answer (fake_world::set_request_time_fields); false: none.
  void set_request_time_fields(bool on = true);
  /// Detail objects of about `bytes` bytes from now on.
  void set_detail_size(int bytes);
  /// OpenDota's own shapes from now on (`POST /_control/shapes`): list
  /// rows and details as the real API answers them, details of ~14 KB
  /// unparsed and ~248 KB parsed (`parsed_percent` of them; 45 in
  /// OpenDota's sample) in place of the detail size.
  void set_real_shapes(bool real = true, int parsed_percent = 45);
  /// "normal", "private" (lists [], profile.fh_unavailable) or "unknown"
  /// (lists [], /api/players/{id} answers 404).
  void set_account_kind(std::int64_t account_id, const std::string& kind);
  /// Turns OpenDota's limiter on (or off with zeros).
  void set_limits(const quota_limits& limits);
  quota_usage quota();
  /// The account's whole history as the fake would list it, newest first
  /// (not logged, no faults): what a complete sync must store.
  nlohmann::json history(std::int64_t account_id);

  /// Every API answer waits `fixed_ms` + uniform [0, jitter_ms] (seeded).
  void set_latency(int fixed_ms, int jitter_ms = 0, std::uint64_t seed = 1);
  /// The next requests whose path fully matches `path_regex` (ECMAScript,
  /// e.g. "/api/matches/.*" or "/api/players/42/matches") get `answers`, in
  /// order; then normal answers again. Scripts added earlier match first.
  void script(const std::string& path_regex,
              const std::vector<scripted_answer>& answers);
  /// Scripted answers not consumed yet, summed over all scripts.
  int pending_scripted_answers();
  /// Requests matching `path_regex` and no script fail with probability
  /// `rate`, with a status drawn from `statuses` (seeded).
  void set_random_errors(double rate, std::vector<int> statuses = {500, 502, 503},
                         std::uint64_t seed = 1,
                         const std::string& path_regex = ".*");

  /// Requests matching `path_regex` and no script draw one of `faults`
  /// (rates add up to at most 1; seeded), before random errors apply. An
  /// empty list turns the mix off. Bursts: see random_fault.
  void set_random_faults(const std::vector<random_fault>& faults,
                         std::uint64_t seed = 1,
                         const std::string& path_regex = ".*");

  /// API requests received so far (control routes are not logged), from
  /// sequence number `since` on.
  std::vector<logged_request> log(std::size_t since = 0);
  /// Waits until the log holds at least `count` requests matching
  /// `path_regex`; false at the deadline.
  bool wait_for_requests(const std::string& path_regex, std::size_t count,
                         std::chrono::milliseconds deadline);

  /// The fake's own output (its log file), for failure messages.
  std::string output() const;

  /// Sends a control request; returns the JSON answer. For routes without a
  /// wrapper.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nlohmann::json::object());

private:
  std::unique_ptr<child_process> process_;
  int port_ = 0;
  std::string url_;
};

}  // namespace matchsync::test
