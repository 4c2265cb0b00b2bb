// Validation of what a client sends: query values, path ids, the trigger
// body. Pure functions; each refusal carries the 422 detail to show.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "core/sync_job.hpp"

namespace matchsync::http {

/// A value, or the reason it was refused (a 422 detail).
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
  bool ok() const { return value.has_value(); }
};

/// A PUT /sync/schedule body: `enabled` (required) and `interval_minutes`
/// (15..10080; absent: the schedule's current one).
struct schedule_request {
  bool enabled = false;
  std::optional<int> interval_minutes;
};
parsed<schedule_request> parse_schedule_body(const std::string& body);

/// Parses a query value as an integer in [min, max]: decimal digits only (no
/// sign, no fraction, no blanks). `present` false means the parameter was
/// absent: `fallback` is used.
parsed<std::int64_t> parse_int_param(const std::string& name, bool present,
                                     const std::string& text, std::int64_t min,
                                     std::int64_t max, std::int64_t fallback);

/// Parses a path id (job or match id): decimal digits that fit an int64.
parsed<std::int64_t> parse_id(const std::string& name, const std::string& text);

/// The job type a trigger asks for. Empty (or blank) body or no `job_type`
/// key: incremental. The body must otherwise be a JSON object whose
/// `job_type`, when present, is "incremental_sync" or "full_sync".
parsed<job_type> parse_trigger_body(const std::string& body);

/// The token of an `Authorization: Bearer TOKEN` header (scheme
/// case-insensitive), or nullopt when the header has another form.
std::optional<std::string> bearer_token(const std::string& authorization);

}  // namespace matchsync::http
