#include "upstream/leased_budget.hpp"

#include "upstream/cancel_token.hpp"

#include <algorithm>

namespace matchsync::upstream {

leased_budget::leased_budget(ask_fn ask, int lease_size, clock::duration ask_timeout)
  : ask_(std::move(ask)), lease_size_(std::max(1, lease_size)), ask_timeout_(ask_timeout) {}

bool leased_budget::acquire(cancel_token& token) { return acquire_as(token_key(token), token); }

bool leased_budget::acquire_as(job_claim who, cancel_token& token) {
  if (token.cancelled())
    return false;  // never asks
  // Our cancel wakes us wherever we wait below.
  auto wake = token.on_cancel([this] {
    std::lock_guard<std::mutex> guard(mutex_);
    changed_.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex_);
  auto me = waiters_.emplace(++arrivals_, waiter{who}).first;
  auto leave = [&](bool started) {
    waiters_.erase(me);
    return started;
  };
  for (;;) {
    if (token.cancelled())
      return leave(false);  // a slot just given to us stays unused: errs on the safe side
    if (me->second.given)
      return leave(true);
    auto now = clock::now();
    if (now < held_until_) {
      // Slots before the hold's end would start in the spent minute; the
      // ones after it are still good (unlimited or not, a hold holds).
      while (!slots_.empty() && slots_.front() < held_until_)
        slots_.pop_front();
      if (slots_.empty()) {
        changed_.wait_until(lock, held_until_);
        continue;
      }
    }
    if (now < unlimited_until_)
      return leave(true);
    // Due slots go, one by one, to the job the rule ranks first (maybe
    // ours). Everyone waiting wakes by then.
    while (!slots_.empty() && slots_.front() <= now) {
      auto slot = slots_.front();
      slots_.pop_front();
      // A slot used late would crowd the next one, maybe another node's.
      if (now > slot + grace_)
        continue;
      std::vector<std::map<std::uint64_t, waiter>::iterator> oldest;
      auto jobs = claimants_of(waiters_, grants_, now, oldest,
                               [](const waiter& w) { return !w.given; });
      auto chosen = oldest[rule_.pick(jobs)];  // we wait without one: not empty
      chosen->second.given = true;
      grants_.record(chosen->second.who.job, slot);
      changed_.notify_all();
      if (chosen == me)
        break;
    }
    if (me->second.given)
      return leave(true);
    // Ask when fewer slots are leased than requests wait for one, at most a
    // lease ahead (a node hoarding slots would crowd the others' turns), one
    // ask at a time, for the job ranked first now.
    std::vector<std::map<std::uint64_t, waiter>::iterator> oldest;
    auto jobs = claimants_of(waiters_, grants_, now, oldest,
                             [](const waiter& w) { return !w.given; });
    auto open = static_cast<std::size_t>(
      std::count_if(waiters_.begin(), waiters_.end(), [](auto& w) { return !w.second.given; }));
    if (asking_ && now - asked_at_ > ask_timeout_)
      asking_ = false;  // that answer is lost: ask again
    if (!asking_ && now >= not_before_ && slots_.size() < open &&
        slots_.size() < static_cast<std::size_t>(lease_size_)) {
      asking_ = true;
      asked_at_ = now;
      ++asks_;
      // Hands it on, returns at once.
      ask_(static_cast<std::int32_t>(lease_size_), oldest[rule_.next(jobs)]->second.who);
    }
    // Until the next slot, the ask's timeout or the refusal's end.
    auto until = now + ask_timeout_;
    if (!slots_.empty())
      until = std::min(until, slots_.front());
    if (asking_)
      until = std::min(until, asked_at_ + ask_timeout_);
    else if (now < not_before_)
      until = std::min(until, not_before_);
    changed_.wait_until(lock, until);
  }
}

void leased_budget::grant(const std::vector<std::int64_t>& delays_ms, std::int64_t grace_ms,
                          clock::time_point at) {
  // The numbers came over the wire: bounded before any arithmetic, since a
  // duration near the int64 limits overflows once counted in nanoseconds
  // (undefined; in practice a slot in the far past and a grace that drops
  // every slot as late). A day covers any real lease, a minute any grace.
  constexpr std::int64_t day_ms = 24LL * 3600 * 1000;
  std::lock_guard<std::mutex> guard(mutex_);
  asking_ = false;
  grace_ = std::chrono::milliseconds(std::clamp<std::int64_t>(grace_ms, 0, 60'000));
  if (delays_ms.empty())
    unlimited_until_ = at + std::chrono::seconds(5);  // no budget: ask now and then
  for (auto d : delays_ms)
    slots_.push_back(at + std::chrono::milliseconds(std::clamp(d, -day_ms, day_ms)));
  // In time order, whatever order answers came in: the first due goes first.
  std::sort(slots_.begin(), slots_.end());
  changed_.notify_all();
}

void leased_budget::hold_until(clock::time_point until) {
  std::lock_guard<std::mutex> guard(mutex_);
  held_until_ = std::max(held_until_, until);
  changed_.notify_all();
}

void leased_budget::refuse(clock::duration retry, clock::time_point at) {
  std::lock_guard<std::mutex> guard(mutex_);
  asking_ = false;
  not_before_ = at + retry;
  changed_.notify_all();
}

int leased_budget::asks() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return asks_;
}

std::size_t leased_budget::waiting() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return waiters_.size();
}

}  // namespace matchsync::upstream
