#include "actors/cluster_budget.hpp"

#include "actors/messages.hpp"
#include "upstream/cancel_token.hpp"

namespace matchsync {

leased_rate_budget::leased_rate_budget(caf::actor_system& sys, caf::actor coordinator,
                                       int lease_size)
  : sys_(sys), coordinator_(std::move(coordinator)), lease_size_(lease_size) {}

bool leased_rate_budget::lease(upstream::cancel_token& token) {
  bool answered = false, unlimited = false;
  caf::scoped_actor self{sys_};
  self->request(coordinator_, std::chrono::seconds(5), budget_atom::value,
                static_cast<std::int32_t>(lease_size_))
    .receive(
      [&](std::vector<std::int64_t>& delays, std::int64_t grace_ms) {
        answered = true;
        unlimited = delays.empty();
        auto now = clock::now();
        grace_ = std::chrono::milliseconds(grace_ms);
        for (auto d : delays)
          slots_.push_back(now + std::chrono::milliseconds(d));
      },
      [&](caf::error&) {});
  if (unlimited) {
    // No budget configured: ask again only now and then.
    unlimited_until_ = clock::now() + std::chrono::seconds(5);
    return true;
  }
  // While the coordinator cannot be reached, wait and ask again.
  return answered || token.wait_for(std::chrono::seconds(1));
}

bool leased_rate_budget::acquire(upstream::cancel_token& token) {
  clock::time_point slot;
  {
    // Held while leasing, so that callers take slots in arrival order.
    std::lock_guard<std::mutex> guard(mutex_);
    for (;;) {
      if (token.cancelled())
        return false;
      if (clock::now() < unlimited_until_)
        return true;
      if (slots_.empty()) {
        if (!lease(token))
          return false;
        continue;
      }
      slot = slots_.front();
      slots_.pop_front();
      // A slot used late would crowd the next one, maybe another node's.
      if (clock::now() <= slot + grace_)
        break;
    }
  }
  return token.wait_until(slot);
}

}  // namespace matchsync
