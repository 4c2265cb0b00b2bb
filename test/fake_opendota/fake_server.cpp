#include "test/fake_opendota/fake_server.hpp"

#include <regex>
#include <stdexcept>

#include <httplib.h>

#include "test/support/process.hpp"

namespace matchsync::test {

scripted_answer scripted_answer::pass() {
  return {};
}

scripted_answer scripted_answer::delayed(int ms) {
  scripted_answer a;
  a.delay_ms = ms;
  return a;
}

scripted_answer scripted_answer::http_status(int status, std::string body) {
  scripted_answer a;
  a.action = "status";
  a.status = status;
  a.body = std::move(body);
  return a;
}

scripted_answer
scripted_answer::too_many_requests(std::optional<int> retry_after_s) {
  auto a = http_status(429);
  if (retry_after_s)
    a.retry_after = std::to_string(*retry_after_s);
  return a;
}

scripted_answer scripted_answer::daily_limit() {
  scripted_answer a;
  a.action = "daily_limit";
  return a;
}

scripted_answer scripted_answer::malformed_json() {
  scripted_answer a;
  a.action = "malformed";
  return a;
}

scripted_answer scripted_answer::truncated_body() {
  scripted_answer a;
  a.action = "truncate";
  return a;
}

scripted_answer scripted_answer::connection_reset() {
  scripted_answer a;
  a.action = "reset";
  return a;
}

scripted_answer& scripted_answer::times(int n) {
  repeat = n;
  return *this;
}

scripted_answer& scripted_answer::after_ms(int ms) {
  delay_ms = ms;
  return *this;
}

nlohmann::json scripted_answer::to_json() const {
  nlohmann::json j = {{"action", action}, {"delay_ms", delay_ms},
                      {"repeat", repeat}};
  if (action == "status")
    j["status"] = status;
  if (!body.empty())
    j["body"] = body;
  if (retry_after)
    j["retry_after"] = *retry_after;
  return j;
}

fake_opendota::fake_opendota() : fake_opendota(options{}) {}

fake_opendota::fake_opendota(options opts) {
  std::vector<std::string> argv{
    binary_path("test/fake_opendota/fake_opendota"), "--seed",
    std::to_string(opts.seed), "--threads", std::to_string(opts.threads),
    "--detail-bytes", std::to_string(opts.detail_bytes)};
  if (opts.die_with_parent)
    argv.push_back("--die-with-parent");
  process_ = std::make_unique<child_process>(std::move(argv));
  std::regex line(R"(listening on (\d+)\n)");
  std::smatch m;
  std::string out;
  bool up = wait_until(
    [&] {
      out = process_->output();
      return std::regex_search(out, m, line) || !process_->running();
    },
    opts.start_timeout);
  if (!up || m.empty())
    throw std::runtime_error("fake_opendota did not start: " + out);
  port_ = std::stoi(m[1]);
  url_ = "http://127.0.0.1:" + std::to_string(port_);
}

fake_opendota::~fake_opendota() = default;

std::int64_t fake_opendota::match_id(std::int64_t account_id,
                                     std::int64_t index) {
  return account_id * 1'000'000 + index + 1;
}

nlohmann::json fake_opendota::control(const std::string& method,
                                      const std::string& path,
                                      const nlohmann::json& body) {
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(std::chrono::seconds(5));
  cli.set_read_timeout(std::chrono::seconds(10));
  auto res = method == "GET"
               ? cli.Get(path)
               : cli.Post(path, body.dump(), "application/json");
  if (!res)
    throw std::runtime_error("fake_opendota " + method + " " + path + ": " +
                             httplib::to_string(res.error()));
  auto answer = nlohmann::json::parse(res->body, nullptr, false);
  if (res->status != 200 || answer.is_discarded())
    throw std::runtime_error("fake_opendota " + method + " " + path +
                             " answered " + std::to_string(res->status) +
                             ": " + res->body);
  return answer;
}

void fake_opendota::reset() {
  control("POST", "/_control/reset");
}

void fake_opendota::set_history_size(std::int64_t account_id,
                                     std::int64_t size) {
  control("POST", "/_control/accounts/" + std::to_string(account_id) + "/size",
          {{"size", size}});
}

std::vector<std::int64_t>
fake_opendota::append_matches(std::int64_t account_id, std::int64_t count) {
  auto answer = control(
    "POST", "/_control/accounts/" + std::to_string(account_id) + "/append",
    {{"count", count}});
  return answer.at("match_ids").get<std::vector<std::int64_t>>();
}

int fake_opendota::change_match(std::int64_t match_id) {
  return control("POST",
                 "/_control/matches/" + std::to_string(match_id) + "/change")
    .at("version")
    .get<int>();
}

void fake_opendota::set_hidden(std::int64_t match_id, bool hidden) {
  control("POST", "/_control/matches/" + std::to_string(match_id) + "/hidden",
          {{"hidden", hidden}});
}

std::vector<std::int64_t> fake_opendota::share_matches(std::int64_t player,
                                                       std::int64_t owner,
                                                       std::int64_t count) {
  return control("POST", "/_control/accounts/" + std::to_string(player) + "/share",
                 {{"owner", owner}, {"count", count}})
    .at("match_ids")
    .get<std::vector<std::int64_t>>();
}

void fake_opendota::set_unparsed(std::int64_t account_id, bool unparsed) {
  control("POST", "/_control/accounts/" + std::to_string(account_id) + "/unparsed",
          {{"unparsed", unparsed}});
}

int fake_opendota::parse_match(std::int64_t match_id) {
  return control("POST", "/_control/matches/" + std::to_string(match_id) + "/parse")
    .at("version")
    .get<int>();
}

void fake_opendota::set_no_details(std::int64_t match_id, bool no_details) {
  control("POST",
          "/_control/matches/" + std::to_string(match_id) + "/no_details",
          {{"no_details", no_details}});
}

void fake_opendota::set_bad_escapes(std::int64_t match_id, bool bad) {
  control("POST",
          "/_control/matches/" + std::to_string(match_id) + "/bad_escapes",
          {{"bad_escapes", bad}});
}

void fake_opendota::set_request_time_fields(bool on) {
  control("POST", "/_control/request_time_fields", {{"on", on}});
}

void fake_opendota::set_detail_size(int bytes) {
  control("POST", "/_control/detail_size", {{"bytes", bytes}});
}

void fake_opendota::set_real_shapes(bool real, int parsed_percent) {
  control("POST", "/_control/shapes", {{"real", real}, {"parsed_percent", parsed_percent}});
}

void fake_opendota::set_account_kind(std::int64_t account_id, const std::string& kind) {
  control("POST", "/_control/accounts/" + std::to_string(account_id) + "/kind",
          {{"kind", kind}});
}

void fake_opendota::set_limits(const quota_limits& limits) {
  nlohmann::json body = {{"per_minute", limits.per_minute},
                         {"per_day", limits.per_day},
                         {"day_start_utc", limits.day_start_utc},
                         {"revoked_keys", limits.revoked_keys}};
  if (limits.retry_after_s)
    body["retry_after"] = std::to_string(*limits.retry_after_s);
  control("POST", "/_control/limits", body);
}

quota_usage fake_opendota::quota() {
  auto q = control("GET", "/_control/quota");
  return {q.at("minute").get<std::int64_t>(), q.at("used_minute").get<std::int64_t>(),
          q.at("day").get<std::int64_t>(), q.at("used_day").get<std::int64_t>()};
}

nlohmann::json fake_opendota::history(std::int64_t account_id) {
  return control("GET", "/_control/accounts/" + std::to_string(account_id) +
                          "/matches")
    .at("matches");
}

void fake_opendota::set_latency(int fixed_ms, int jitter_ms,
                                std::uint64_t seed) {
  control("POST", "/_control/latency",
          {{"fixed_ms", fixed_ms}, {"jitter_ms", jitter_ms}, {"seed", seed}});
}

void fake_opendota::script(const std::string& path_regex,
                           const std::vector<scripted_answer>& answers) {
  auto list = nlohmann::json::array();
  for (const auto& a : answers)
    list.push_back(a.to_json());
  control("POST", "/_control/script", {{"path", path_regex}, {"answers", list}});
}

int fake_opendota::pending_scripted_answers() {
  int total = 0;
  auto answer = control("GET", "/_control/scripts");
  for (const auto& s : answer.at("pending"))
    total += s.at("remaining").get<int>();
  return total;
}

void fake_opendota::set_random_errors(double rate, std::vector<int> statuses,
                                      std::uint64_t seed,
                                      const std::string& path_regex) {
  control("POST", "/_control/random_errors",
          {{"rate", rate},
           {"statuses", statuses},
           {"seed", seed},
           {"path", path_regex}});
}

void fake_opendota::set_random_faults(const std::vector<random_fault>& faults,
                                      std::uint64_t seed,
                                      const std::string& path_regex) {
  auto list = nlohmann::json::array();
  for (const auto& f : faults)
    list.push_back({{"rate", f.rate}, {"answer", f.answer.to_json()}});
  control("POST", "/_control/random_faults",
          {{"faults", list}, {"seed", seed}, {"path", path_regex}});
}

std::vector<logged_request> fake_opendota::log(std::size_t since) {
  auto answer =
    control("GET", "/_control/log?since=" + std::to_string(since));
  std::vector<logged_request> out;
  for (const auto& r : answer.at("requests")) {
    logged_request l;
    l.seq = r.at("seq").get<std::size_t>();
    l.method = r.at("method").get<std::string>();
    l.path = r.at("path").get<std::string>();
    l.query = r.at("query").get<std::string>();
    l.params = r.at("params").get<std::map<std::string, std::string>>();
    l.t_ms = r.at("t_ms").get<double>();
    l.status = r.at("status").get<int>();
    l.action = r.at("action").get<std::string>();
    l.done = r.at("done").get<bool>();
    out.push_back(std::move(l));
  }
  return out;
}

bool fake_opendota::wait_for_requests(const std::string& path_regex,
                                      std::size_t count,
                                      std::chrono::milliseconds deadline) {
  std::regex pattern(path_regex);
  return wait_until(
    [&] {
      std::size_t n = 0;
      for (const auto& r : log())
        n += std::regex_match(r.path, pattern) ? 1 : 0;
      return n >= count;
    },
    deadline);
}

std::string fake_opendota::output() const {
  return process_->output();
}

}  // namespace matchsync::test
