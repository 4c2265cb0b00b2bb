#include "upstream/fair_share.hpp"

#include <algorithm>
#include <iterator>

namespace matchsync::upstream {

namespace {

// a before b: fewer grants per job stood for (compared crosswise, exact),
// then waiting longer.
bool before(const claimant& a, const claimant& b) {
  auto lhs = static_cast<std::int64_t>(a.recent) * std::max(1, b.weight);
  auto rhs = static_cast<std::int64_t>(b.recent) * std::max(1, a.weight);
  if (lhs != rhs)
    return lhs < rhs;
  return a.waiting_since < b.waiting_since;
}

}  // namespace

std::size_t fairest(const std::vector<claimant>& waiting) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < waiting.size(); ++i)
    if (before(waiting[i], waiting[best]))
      best = i;
  return best;
}

void grant_log::record(std::uint64_t job, fair_clock::time_point at) {
  grants_[job].push_back(at);
  // Now and then, not on every grant: a sweep walks every job.
  if (++records_ % 1024 == 0)
    forget_idle(at);
}

int grant_log::recent(std::uint64_t job, fair_clock::time_point now) {
  auto it = grants_.find(job);
  if (it == grants_.end())
    return 0;
  auto& times = it->second;
  while (!times.empty() && times.front() <= now - window_)
    times.pop_front();
  if (times.empty()) {
    grants_.erase(it);
    return 0;
  }
  return static_cast<int>(times.size());
}

void grant_log::forget_idle(fair_clock::time_point now) {
  for (auto it = grants_.begin(); it != grants_.end();) {
    auto& times = it->second;
    while (!times.empty() && times.front() <= now - window_)
      times.pop_front();
    it = times.empty() ? grants_.erase(it) : std::next(it);
  }
}

}  // namespace matchsync::upstream
