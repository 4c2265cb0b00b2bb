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

std::size_t fair_rule::next(const std::vector<claimant>& waiting) const {
  bool any_ahead = false, any_other = false;
  for (auto& c : waiting)
    (c.ahead ? any_ahead : any_other) = true;
  const bool go_ahead = any_ahead && (!any_other || run_ < ahead_run);
  std::size_t best = waiting.size();
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (waiting[i].ahead != go_ahead)
      continue;
    if (best == waiting.size())
      best = i;
    else if (go_ahead ? waiting[i].waiting_since < waiting[best].waiting_since
                      : before(waiting[i], waiting[best]))
      best = i;  // ahead: the oldest request first, so none of them waits long
  }
  return best;
}

std::size_t fair_rule::pick(const std::vector<claimant>& waiting) {
  auto best = next(waiting);
  bool others = std::any_of(waiting.begin(), waiting.end(), [](auto& c) { return !c.ahead; });
  if (!waiting[best].ahead)
    run_ = 0;
  else if (others)
    ++run_;
  return best;
}

void grant_log::record(std::uint64_t job, fair_clock::time_point at) {
  auto& e = grants_[job];
  e.times.push_back(at);
  ++e.total;
  // Now and then, not on every grant: a sweep walks every job.
  if (++records_ % 1024 == 0)
    forget_idle(at);
}

grant_log::entry* grant_log::current(std::uint64_t job, fair_clock::time_point now) {
  auto it = grants_.find(job);
  if (it == grants_.end())
    return nullptr;
  auto& times = it->second.times;
  while (!times.empty() && times.front() <= now - window_)
    times.pop_front();
  if (times.empty()) {
    grants_.erase(it);
    return nullptr;
  }
  return &it->second;
}

int grant_log::recent(std::uint64_t job, fair_clock::time_point now) {
  return counts(job, now).recent;
}

int grant_log::total(std::uint64_t job, fair_clock::time_point now) {
  return counts(job, now).total;
}

grant_log::job_counts grant_log::counts(std::uint64_t job, fair_clock::time_point now) {
  auto* e = current(job, now);
  if (!e)
    return {};
  return {static_cast<int>(e->times.size()), e->total};
}

void grant_log::forget_idle(fair_clock::time_point now) {
  for (auto it = grants_.begin(); it != grants_.end();) {
    auto& times = it->second.times;
    while (!times.empty() && times.front() <= now - window_)
      times.pop_front();
    it = times.empty() ? grants_.erase(it) : std::next(it);
  }
}

}  // namespace matchsync::upstream
