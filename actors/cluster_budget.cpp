#include "actors/cluster_budget.hpp"

#include <future>
#include <optional>
#include <vector>

#include "actors/messages.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/minute_rule.hpp"

namespace matchsync {

namespace {

// The coordinator's answer to one lease request: delays of the slots from
// the moment it answered (empty: no budget configured) and the grace.
struct lease_answer {
  std::vector<std::int64_t> delays;
  std::int64_t grace_ms = 0;
};

using answer_slot = std::promise<std::optional<lease_answer>>;

}  // namespace

leased_rate_budget::leased_rate_budget(caf::actor_system& sys, caf::actor coordinator,
                                       int lease_size)
  : sys_(sys), coordinator_(std::move(coordinator)), lease_size_(lease_size) {}

bool leased_rate_budget::lease(upstream::cancel_token& token) {
  // The request runs in an actor of its own, which owns the promise: the
  // caller can stop waiting on a cancel at once, and a late answer goes
  // nowhere (its slots stay unused, which errs on the safe side).
  auto slot = std::make_shared<answer_slot>();
  auto answer = slot->get_future();
  auto asking = sys_.spawn([slot, coordinator = coordinator_, n = static_cast<std::int32_t>(lease_size_)](
               caf::event_based_actor* self) {
    self->request(coordinator, std::chrono::seconds(5), budget_atom::value, n)
      .then(
        [slot](std::vector<std::int64_t>& delays, std::int64_t grace_ms) {
          slot->set_value(lease_answer{std::move(delays), grace_ms});
        },
        [slot](caf::error&) { slot->set_value(std::nullopt); });
  });
  while (answer.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
    if (token.cancelled()) {
      caf::anon_send_exit(asking, caf::exit_reason::user_shutdown);
      return false;
    }
  }
  auto got = answer.get();
  if (!got) {
    // The coordinator cannot be reached: wait and ask again.
    return token.wait_for(std::chrono::seconds(1));
  }
  auto now = clock::now();
  std::lock_guard<std::mutex> guard(mutex_);
  grace_ = std::chrono::milliseconds(got->grace_ms);
  if (got->delays.empty()) {
    // No budget configured: ask again only now and then.
    unlimited_until_ = now + std::chrono::seconds(5);
    return true;
  }
  for (auto d : got->delays)
    slots_.push_back(now + std::chrono::milliseconds(d));
  return true;
}

void leased_rate_budget::hold_until_next_minute() {
  auto wall = std::chrono::system_clock::now().time_since_epoch();
  auto next = upstream::next_clock_minute(wall, std::chrono::seconds(1));
  std::lock_guard<std::mutex> guard(mutex_);
  held_until_ = std::max(held_until_, clock::now() + std::chrono::duration_cast<clock::duration>(next - wall));
}

bool leased_rate_budget::acquire(upstream::cancel_token& token) {
  clock::time_point slot;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (token.cancelled())
        return false;
      if (clock::now() < held_until_) {
        // The upstream's minute is spent: slots before its end go unused,
        // and none is leased before it (that would spend the cluster's).
        while (!slots_.empty() && slots_.front() < held_until_)
          slots_.pop_front();
        if (slots_.empty()) {
          auto until = held_until_;
          lock.unlock();
          bool waited = token.wait_until(until);
          lock.lock();
          if (!waited)
            return false;
          continue;
        }
      }
      if (clock::now() < unlimited_until_)
        return true;
      if (!slots_.empty()) {
        slot = slots_.front();
        slots_.pop_front();
        // A slot used late would crowd the next one, maybe another node's.
        if (clock::now() <= slot + grace_)
          break;
        continue;
      }
      if (leasing_) {
        // Another caller is asking for slots: wait for its answer, hearing
        // our own cancel meanwhile (checked every 20 ms).
        leased_.wait_for(lock, std::chrono::milliseconds(20));
        continue;
      }
      leasing_ = true;
      lock.unlock();
      bool ok = lease(token);
      lock.lock();
      leasing_ = false;
      leased_.notify_all();
      if (!ok)
        return false;
    }
  }
  return token.wait_until(slot);
}

}  // namespace matchsync
