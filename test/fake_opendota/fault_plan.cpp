#include "test/fake_opendota/fault_plan.hpp"

#include <algorithm>
#include <stdexcept>

namespace matchsync::fake {

const char* to_string(action a) {
  switch (a) {
    case action::pass:
      return "pass";
    case action::status:
      return "status";
    case action::daily_limit:
      return "daily_limit";
    case action::malformed:
      return "malformed";
    case action::truncate:
      return "truncate";
    case action::reset:
      return "reset";
  }
  return "unknown";
}

std::optional<action> action_from_string(const std::string& text) {
  for (auto a : {action::pass, action::status, action::daily_limit,
                 action::malformed, action::truncate, action::reset})
    if (text == to_string(a))
      return a;
  return std::nullopt;
}

std::vector<planned_answer> answers_from_json(const nlohmann::json& entry) {
  if (!entry.is_object())
    throw std::invalid_argument("a scripted answer must be a JSON object");
  planned_answer a;
  if (entry.contains("status")) {
    a.what = action::status;
    a.status = entry.at("status").get<int>();
    if (a.status < 100 || a.status > 599)
      throw std::invalid_argument("status out of range");
  }
  if (entry.contains("action")) {
    auto what = action_from_string(entry.at("action").get<std::string>());
    if (!what)
      throw std::invalid_argument("unknown action " + entry.at("action").dump());
    a.what = *what;
  }
  if (a.what == action::status && !entry.contains("status"))
    throw std::invalid_argument("action status needs a status");
  if (entry.contains("body"))
    a.body = entry.at("body").get<std::string>();
  if (entry.contains("retry_after")) {
    auto& ra = entry.at("retry_after");
    a.retry_after = ra.is_string() ? ra.get<std::string>() : ra.dump();
  }
  a.delay_ms = entry.value("delay_ms", 0);
  int repeat = entry.value("repeat", 1);
  if (repeat < 1 || repeat > 100000)
    throw std::invalid_argument("repeat must be in 1..100000");
  return std::vector<planned_answer>(static_cast<std::size_t>(repeat), a);
}

void fault_plan::add_script(const std::string& path_regex,
                            std::vector<planned_answer> answers) {
  script s{path_regex, std::regex(path_regex), {}};
  for (auto& a : answers)
    s.answers.push_back(std::move(a));
  if (!s.answers.empty())
    scripts_.push_back(std::move(s));
}

void fault_plan::set_random_errors(double rate, std::vector<int> statuses,
                                   std::uint64_t seed,
                                   const std::string& path_regex) {
  error_path_ = std::regex(path_regex);
  error_rate_ = rate;
  error_statuses_ = statuses.empty() ? std::vector<int>{500, 502, 503}
                                     : std::move(statuses);
  error_rng_.seed(seed);
}

void fault_plan::set_random_faults(
  std::vector<std::pair<double, std::vector<planned_answer>>> faults,
  std::uint64_t seed, const std::string& path_regex) {
  double total = 0;
  for (const auto& [rate, answers] : faults) {
    if (rate < 0 || answers.empty())
      throw std::invalid_argument("a random fault needs a rate >= 0 and an answer");
    total += rate;
  }
  if (total > 1.0 + 1e-9)
    throw std::invalid_argument("random fault rates add up to more than 1");
  fault_path_ = std::regex(path_regex);
  faults_ = std::move(faults);
  burst_.clear();
  fault_rng_.seed(seed);
}

void fault_plan::set_latency(int fixed_ms, int jitter_ms, std::uint64_t seed) {
  latency_fixed_ms_ = std::max(fixed_ms, 0);
  latency_jitter_ms_ = std::max(jitter_ms, 0);
  rng_.seed(seed);
}

planned_answer fault_plan::next(const std::string& path) {
  planned_answer answer;
  bool decided = false;
  for (auto it = scripts_.begin(); it != scripts_.end(); ++it) {
    if (std::regex_match(path, it->regex)) {
      answer = std::move(it->answers.front());
      it->answers.pop_front();
      if (it->answers.empty())
        scripts_.erase(it);
      decided = true;
      break;
    }
  }
  if (!decided && !faults_.empty() && std::regex_match(path, fault_path_)) {
    if (!burst_.empty()) {
      answer = burst_.front();
      burst_.pop_front();
      decided = true;
    } else {
      double draw = std::uniform_real_distribution<double>(0.0, 1.0)(fault_rng_);
      for (const auto& [rate, answers] : faults_) {
        if (draw < rate) {
          answer = answers.front();
          burst_.insert(burst_.end(), answers.begin() + 1, answers.end());
          decided = true;
          break;
        }
        draw -= rate;
      }
    }
  }
  if (!decided && error_rate_ > 0 && std::regex_match(path, error_path_)) {
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    if (coin(error_rng_) < error_rate_) {
      answer.what = action::status;
      answer.status = error_statuses_[error_rng_() % error_statuses_.size()];
      answer.body = R"({"error":"random fault"})";
    }
  }
  int latency = latency_fixed_ms_;
  if (latency_jitter_ms_ > 0)
    latency += std::uniform_int_distribution<int>(0, latency_jitter_ms_)(rng_);
  answer.delay_ms += latency;
  return answer;
}

nlohmann::json fault_plan::pending() const {
  auto out = nlohmann::json::array();
  for (const auto& s : scripts_)
    out.push_back({{"path", s.pattern}, {"remaining", s.answers.size()}});
  return out;
}

}  // namespace matchsync::fake
