#include "core/job_retention.hpp"

namespace matchsync::retention {

std::optional<clock::time_point> cutoff(const policy& p, clock::time_point now) {
  if (p.days <= 0)
    return std::nullopt;
  return now - std::chrono::hours(24) * p.days;
}

std::int64_t cutoff_epoch_seconds(clock::time_point cutoff) {
  return std::chrono::floor<std::chrono::seconds>(cutoff.time_since_epoch()).count();
}

bool another_batch(const policy& p, int deleted, int batches_done) {
  return deleted >= p.batch_size && batches_done < p.max_batches;
}

}  // namespace matchsync::retention
