// How the fake OpenDota misbehaves: scripted answers per path, random
// errors and latency, all seeded. Not thread-safe: the server guards it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace matchsync::fake {

/// What to do with one request.
enum class action {
  pass,         ///< the normal answer
  status,       ///< answer `status` with `body` (and Retry-After if set)
  daily_limit,  ///< 429 {"error":"daily api limit exceeded"}
  malformed,    ///< 200 whose body is the normal one cut short: invalid JSON,
                ///< but a complete HTTP answer
  truncate,     ///< 200 headers announcing the full body, half of it, then
                ///< the connection closes: the client's read fails
  reset,        ///< the connection is reset (RST) with no answer at all
};

const char* to_string(action a);
std::optional<action> action_from_string(const std::string& text);

/// One planned answer.
struct planned_answer {
  fake::action what = fake::action::pass;
  int status = 200;
  std::string body;  ///< empty = a default body for the status
  std::optional<std::string> retry_after;
  int delay_ms = 0;  ///< extra delay on top of the latency
};

/// Reads the answers of one script entry of POST /_control/script:
/// {"action", "status", "body", "retry_after", "delay_ms", "repeat"}, every
/// key optional (see README.md). `repeat` copies the entry. Throws
/// std::invalid_argument for an unknown action or a bad value.
std::vector<planned_answer> answers_from_json(const nlohmann::json& entry);

/// Decides each API request's answer.
class fault_plan {
public:
  explicit fault_plan(std::uint64_t seed) : rng_(seed) {}

  /// Queues answers for requests whose path fully matches `path_regex`.
  /// Scripts are consulted in the order they were added; one is dropped
  /// once empty. Throws std::regex_error for a bad pattern.
  void add_script(const std::string& path_regex,
                  std::vector<planned_answer> answers);

  /// From now on, a request whose path matches `path_regex` (and no script)
  /// fails with probability `rate` with one of `statuses`, seeded.
  void set_random_errors(double rate, std::vector<int> statuses,
                         std::uint64_t seed, const std::string& path_regex);

  /// From now on, a request whose path matches `path_regex` (and no script)
  /// draws one fault of `faults` (each with its own probability; together at
  /// most 1) before random errors are considered. A drawn fault whose answer
  /// has several copies (`repeat`) is a burst: the next matching requests get
  /// the remaining copies. An empty list turns it off. Seeded.
  void set_random_faults(std::vector<std::pair<double, std::vector<planned_answer>>> faults,
                         std::uint64_t seed, const std::string& path_regex);

  /// Every API answer is delayed by `fixed_ms` plus a uniform draw from
  /// [0, jitter_ms], seeded.
  void set_latency(int fixed_ms, int jitter_ms, std::uint64_t seed);

  /// The answer for a request to `path`, and the total delay before it.
  planned_answer next(const std::string& path);

  /// Scripts still waiting: [{"path", "remaining"}].
  nlohmann::json pending() const;

private:
  struct script {
    std::string pattern;
    std::regex regex;
    std::deque<planned_answer> answers;
  };

  std::vector<script> scripts_;
  std::vector<std::pair<double, std::vector<planned_answer>>> faults_;
  std::deque<planned_answer> burst_;
  std::regex fault_path_{".*"};
  std::mt19937_64 fault_rng_{1};
  double error_rate_ = 0;
  std::vector<int> error_statuses_;
  std::regex error_path_{".*"};
  std::mt19937_64 error_rng_{1};
  int latency_fixed_ms_ = 0;
  int latency_jitter_ms_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace matchsync::fake
