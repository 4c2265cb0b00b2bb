// One run of a job: the job id and the attempt the database gave it. Leases,
// fences and every table that can hold two runs of one job are keyed by it.
#pragma once

#include <cstdint>

namespace matchsync {

struct job_run {
  std::int64_t job_id = 0;
  std::int32_t attempt = 0;
  friend bool operator<(const job_run& a, const job_run& b) {
    return a.job_id != b.job_id ? a.job_id < b.job_id : a.attempt < b.attempt;
  }
  friend bool operator==(const job_run& a, const job_run& b) {
    return a.job_id == b.job_id && a.attempt == b.attempt;
  }
};

}  // namespace matchsync
