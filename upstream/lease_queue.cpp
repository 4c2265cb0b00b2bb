#include "upstream/lease_queue.hpp"

#include <algorithm>

namespace matchsync::upstream {

lease_queue::lease_queue(clock::duration lookahead, clock::duration deadline)
  : lookahead_(lookahead), deadline_(deadline) {}

void lease_queue::add(std::uint64_t id, job_claim who, int weight, std::int32_t count,
                      clock::time_point now) {
  waiting_.push_back(request{id, {who, std::max(1, weight)}, count, now});
}

std::vector<lease_queue::answer> lease_queue::due(local_rate_budget& budget,
                                                  clock::time_point now) {
  std::vector<answer> out;
  // Past their deadline: "later" (the oldest are at the front).
  while (!waiting_.empty() && now - waiting_.front().arrived >= deadline_) {
    out.push_back(answer{waiting_.front().id, true, {}});
    waiting_.pop_front();
  }
  while (!waiting_.empty()) {
    std::size_t chosen = 0;
    if (budget.per_minute() != 0) {
      // Nothing to decide yet: the next slot is not near.
      if (budget.next_start() > now + lookahead_)
        break;
      std::vector<local_rate_budget::remote_claim> claims;
      claims.reserve(waiting_.size());
      for (auto& r : waiting_)
        claims.push_back(r.claim);
      chosen = budget.rank_first(claims);
    }
    auto r = waiting_[chosen];
    // While others wait, one slot a turn: each slot is decided between them.
    auto count = waiting_.size() > 1 ? 1 : r.count;
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(chosen));
    out.push_back(answer{r.id, false, budget.lend(count, r.claim.who, r.claim.weight)});
  }
  return out;
}

std::optional<lease_queue::clock::time_point> lease_queue::wake_at(local_rate_budget& budget) const {
  if (waiting_.empty())
    return std::nullopt;
  auto at = waiting_.front().arrived + deadline_;
  return std::min(at, budget.next_start() - lookahead_);
}

}  // namespace matchsync::upstream
