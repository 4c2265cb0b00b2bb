#include "http/params.hpp"

#include "core/schedule_rules.hpp"

#include <cctype>
#include <limits>

#include <nlohmann/json.hpp>

namespace matchsync::http {

namespace {

// Decimal digits only; nullopt when empty, not digits, or over `max`.
std::optional<std::int64_t> digits_value(const std::string& text, std::int64_t max) {
  if (text.empty() || text.size() > 40)
    return std::nullopt;
  std::int64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9')
      return std::nullopt;
    int d = ch - '0';
    if (v > (max - d) / 10)
      return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

bool blank(const std::string& s) {
  for (unsigned char ch : s)
    if (!std::isspace(ch))
      return false;
  return true;
}

}  // namespace

parsed<std::int64_t> parse_int_param(const std::string& name, bool present,
                                     const std::string& text, std::int64_t min,
                                     std::int64_t max, std::int64_t fallback) {
  if (!present)
    return {fallback, {}};
  auto range = name + " must be an integer between " + std::to_string(min) +
               " and " + std::to_string(max);
  auto v = digits_value(text, std::numeric_limits<std::int64_t>::max());
  if (!v || *v < min || *v > max)
    return {std::nullopt, range};
  return {v, {}};
}

parsed<std::int64_t> parse_id(const std::string& name, const std::string& text) {
  auto v = digits_value(text, std::numeric_limits<std::int64_t>::max());
  if (!v)
    return {std::nullopt, name + " must be a non-negative integer"};
  return {v, {}};
}

parsed<job_type> parse_trigger_body(const std::string& body) {
  if (blank(body))
    return {job_type::incremental_sync, {}};
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return {std::nullopt, "Request body is not valid JSON"};
  if (!doc.is_object())
    return {std::nullopt, "Request body must be a JSON object"};
  auto it = doc.find("job_type");
  if (it == doc.end())
    return {job_type::incremental_sync, {}};
  const char* allowed = "job_type must be one of: incremental_sync, full_sync";
  if (!it->is_string())
    return {std::nullopt, allowed};
  auto type = parse_job_type(it->get<std::string>());
  if (!type)
    return {std::nullopt, allowed};
  return {type, {}};
}

parsed<schedule_request> parse_schedule_body(const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded())
    return {std::nullopt, "Request body is not valid JSON"};
  if (!doc.is_object())
    return {std::nullopt, "Request body must be a JSON object"};
  schedule_request r;
  auto enabled = doc.find("enabled");
  if (enabled == doc.end() || !enabled->is_boolean())
    return {std::nullopt, "enabled must be true or false"};
  r.enabled = enabled->get<bool>();
  auto interval = doc.find("interval_minutes");
  if (interval != doc.end() && !interval->is_null()) {
    // 60.0 is not an integer in JSON's eyes here: minutes are whole.
    if (!interval->is_number_integer() ||
        !schedule::valid_interval(interval->get<std::int64_t>()))
      return {std::nullopt, "interval_minutes must be an integer from 15 to 10080"};
    r.interval_minutes = static_cast<int>(interval->get<std::int64_t>());
  }
  return {r, {}};
}

std::optional<std::string> bearer_token(const std::string& authorization) {
  const std::string scheme = "bearer";
  if (authorization.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
      return std::nullopt;
  std::size_t pos = scheme.size();
  if (authorization[pos] != ' ')
    return std::nullopt;
  while (pos < authorization.size() && authorization[pos] == ' ')
    ++pos;
  auto end = authorization.size();
  while (end > pos && authorization[end - 1] == ' ')
    --end;
  if (end == pos)
    return std::nullopt;
  auto token = authorization.substr(pos, end - pos);
  for (unsigned char ch : token)
    if (ch <= ' ' || ch >= 0x7f)
      return std::nullopt;
  return token;
}

}  // namespace matchsync::http
