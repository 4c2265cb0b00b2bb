// A running job held back by the upstream's rate limit or the shared request
// budget: not part of the job's row, only news for whoever watches it live.
#pragma once

#include <cstdint>
#include <string>

namespace matchsync {

struct job_wait {
  std::int64_t user_id = 0;
  std::int64_t job_id = 0;
  std::string reason;       ///< "rate_limited" (a 429) or "budget"
  std::int64_t wait_ms = 0; ///< how long it waits (429) or waited (budget)
  std::int32_t waits = 0;   ///< such waits of this job so far (this attempt)
};

}  // namespace matchsync
