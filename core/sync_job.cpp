#include "core/sync_job.hpp"

#include <cmath>

namespace matchsync {

const char* to_string(job_status s) {
  switch (s) {
    case job_status::pending: return "pending";
    case job_status::running: return "running";
    case job_status::completed: return "completed";
    case job_status::failed: return "failed";
    case job_status::cancelled: return "cancelled";
  }
  return "unknown";
}

const char* to_string(job_type t) {
  return t == job_type::full_sync ? "full_sync" : "incremental_sync";
}

std::optional<job_status> parse_job_status(const std::string& s) {
  for (auto st : {job_status::pending, job_status::running, job_status::completed,
                  job_status::failed, job_status::cancelled})
    if (s == to_string(st))
      return st;
  return std::nullopt;
}

const char* to_string(job_trigger t) {
  return t == job_trigger::schedule ? "schedule" : "user";
}

std::optional<job_trigger> parse_job_trigger(const std::string& s) {
  if (s == "user")
    return job_trigger::user;
  if (s == "schedule")
    return job_trigger::schedule;
  return std::nullopt;
}

std::optional<job_type> parse_job_type(const std::string& s) {
  if (s == "incremental_sync")
    return job_type::incremental_sync;
  if (s == "full_sync")
    return job_type::full_sync;
  return std::nullopt;
}

double sync_job::progress_percentage() const {
  if (status == job_status::completed)
    return 100.0;
  if (total_matches <= 0)
    return 0.0;
  double p = 100.0 * static_cast<double>(processed_matches) /
             static_cast<double>(total_matches);
  if (p > 100.0)
    p = 100.0;
  return std::round(p * 10.0) / 10.0;
}

}  // namespace matchsync
