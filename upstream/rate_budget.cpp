#include "upstream/rate_budget.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "upstream/cancel_token.hpp"

namespace matchsync::upstream {

namespace {

local_rate_budget::clock::duration interval_for(int per_minute) {
  if (per_minute < 0)
    throw std::invalid_argument("rate budget per minute must be >= 0");
  if (per_minute == 0)
    return local_rate_budget::clock::duration::zero();
  // Rounded up: a slightly longer spacing never breaks the budget, a shorter
  // one could.
  using duration = local_rate_budget::clock::duration;
  auto minute = std::chrono::duration_cast<duration>(std::chrono::minutes(1));
  return duration((minute.count() + per_minute - 1) / per_minute);
}

}  // namespace

wall_duration margin_for(int per_minute, local_rate_budget::clock::duration interval) {
  // Unlimited: a hold still keeps a second off the boundary.
  if (per_minute == 0)
    return std::chrono::seconds(1);
  return edge_margin(std::chrono::duration_cast<wall_duration>(interval));
}

local_rate_budget::local_rate_budget(int per_minute, time_source& time)
  : local_rate_budget(per_minute, clock::duration::zero(), time) {}

local_rate_budget::local_rate_budget(int per_minute, clock::duration extra_spacing,
                                     time_source& time)
  : per_minute_(per_minute),
    interval_(per_minute == 0 ? clock::duration::zero()
                              : interval_for(per_minute) + extra_spacing),
    time_(time), margin_(margin_for(per_minute, interval_)) {}

bool local_rate_budget::acquire(cancel_token& token) {
  // No job named: the token's own (a job's lanes share one).
  return acquire_as(token_key(token), token);
}

bool local_rate_budget::acquire_as(job_claim who, cancel_token& token) {
  if (token.cancelled())
    return false;
  std::unique_lock<std::mutex> lock(mutex_);
  if (per_minute_ == 0) {
    // Nothing to share: only a hold waits.
    for (;;) {
      auto until = held_until_;
      if (time_.now() >= until)
        return true;
      lock.unlock();
      if (!time_.sleep_until(until, token))
        return false;
      lock.lock();
    }
  }
  auto me = waiters_.emplace(++arrivals_, waiter{who, time_.now(), std::nullopt}).first;
  for (;;) {
    auto now = time_.now();
    auto& mine = me->second;
    // A slot given before a hold came would start in the spent minute.
    if (mine.slot && *mine.slot < held_until_)
      mine.slot.reset();
    if (mine.slot && *mine.slot <= now) {
      waiters_.erase(me);
      return true;
    }
    clock::time_point deadline;
    if (mine.slot) {
      deadline = *mine.slot;
    } else {
      wall_duration placed;
      deadline = next_slot(now, placed, true);
      if (deadline <= now) {
        // The slot is due: whoever wakes first hands it out, to the job the
        // rule ranks first (maybe ours). Everyone waiting wakes by then.
        bool unused = false;
        auto chosen = fairest_waiter(now, nullptr, unused);
        grant(chosen->second.who.job, deadline, placed);
        chosen->second.slot = deadline;
        continue;
      }
    }
    lock.unlock();
    bool slept = time_.sleep_until(deadline, token);
    lock.lock();
    if (!slept) {
      waiters_.erase(me);
      return false;
    }
  }
}

void local_rate_budget::hold_until_next_minute() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  auto wall = time_.wall_at(now);
  auto next = next_clock_minute(wall, margin_);
  held_until_ = std::max(held_until_, now + std::chrono::duration_cast<clock::duration>(next - wall));
}

local_rate_budget::clock::time_point local_rate_budget::reserve(job_claim who, int weight) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  if (per_minute_ == 0)
    return std::max(now, held_until_);
  const auto job = who.job;
  claimant rival{job, 0, std::max(1, weight), arrivals_ + 1, who.small};
  for (;;) {
    wall_duration placed;
    auto slot = next_slot(now, placed, false);  // lent: ahead, never late
    bool rival_wins = false;
    auto chosen = fairest_waiter(now, &rival, rival_wins);
    if (rival_wins || chosen == waiters_.end()) {
      grant(job, slot, placed);
      return slot;
    }
    // Promised to a waiting job of ours: it starts then, the lender asks on.
    grant(chosen->second.who.job, slot, placed);
    chosen->second.slot = slot;
  }
}

local_rate_budget::lent_slots local_rate_budget::lend(std::int32_t count, job_claim who,
                                                       int weight) {
  using std::chrono::milliseconds;
  lent_slots out;
  auto n = std::clamp(count, 1, 16);
  auto now = time_.now();
  auto ms = [&](clock::time_point slot) {
    return std::chrono::duration_cast<milliseconds>(slot - now).count();
  };
  if (per_minute_ == 0) {
    // Nothing to reserve; only a hold matters. (Not reserve()'s answer: it
    // reads the clock again, later than `now`, and would look like a hold.)
    clock::time_point until;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      until = held_until_;
    }
    if (until > now) {
      out.delays_ms.assign(static_cast<std::size_t>(n), ms(until));
      out.grace_ms = 1000;
    }
    return out;
  }
  for (int i = 0; i < n; ++i)
    out.delays_ms.push_back(ms(reserve(who, weight)));
  // The spacing beyond the rate's own (the cluster's guard) is the slack.
  auto grace = std::chrono::duration_cast<milliseconds>(interval_ - milliseconds(60000 / per_minute_));
  out.grace_ms = std::max<std::int64_t>(1, grace.count());
  return out;
}

local_rate_budget::clock::time_point local_rate_budget::next_start() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  if (per_minute_ == 0)
    return std::max(now, held_until_);
  return std::max({now, next_free_, held_until_});
}

std::size_t local_rate_budget::rank_first(const std::vector<remote_claim>& claims) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = time_.now();
  std::vector<claimant> jobs;
  jobs.reserve(claims.size());
  for (std::size_t i = 0; i < claims.size(); ++i) {
    auto& c = claims[i];
    auto counted = grants_.counts(c.who.job, now);
    jobs.push_back(claimant{c.who.job, counted.recent, std::max(1, c.weight), i,
                            is_ahead(c.who.small, counted.total)});
  }
  // next(), not pick(): whether a slot goes ahead is counted when lend()
  // grants it.
  return rule_.next(jobs);
}

local_rate_budget::clock::time_point local_rate_budget::next_slot(clock::time_point now,
                                                                   wall_duration& placed,
                                                                   bool late_ok) {
  // A slot handed out a little late, to a request that waited for it (the
  // wake-up's own delay), still counts at its time, as when slots were
  // promised ahead; otherwise every wake-up would add to the spacing (5 % of
  // the rate at 1,200/min on a loaded machine). Nobody waiting then, or late
  // by more than the edge margin: it is now.
  auto due = std::max(next_free_, held_until_);
  auto slot = std::max(now, due);
  // (now - margin, not now - due: due is min() before the first slot, and
  // now - min() overflows.)
  if (late_ok && due <= now &&
      due >= now - std::chrono::duration_cast<clock::duration>(margin_))
    for (auto& [arrival, w] : waiters_)
      if (!w.slot) {
        if (w.since <= due)
          slot = due;
        break;  // the first without a slot waited longest
      }
  auto wall = time_.wall_at(slot);
  placed = place_in_clock_minute(wall, per_minute_, margin_, tally_);
  return slot + std::chrono::duration_cast<clock::duration>(placed - wall);
}

void local_rate_budget::grant(std::uint64_t job, clock::time_point slot, wall_duration placed) {
  tally_ = count_start(tally_, placed);
  next_free_ = slot + interval_;
  grants_.record(job, slot);
}

std::map<std::uint64_t, local_rate_budget::waiter>::iterator
local_rate_budget::fairest_waiter(clock::time_point now, const claimant* rival,
                                  bool& rival_wins) {
  // One claimant per job: its oldest request without a slot.
  std::vector<std::map<std::uint64_t, waiter>::iterator> oldest;
  auto jobs = claimants_of(waiters_, grants_, now, oldest,
                           [](const waiter& w) { return !w.slot; });
  if (rival) {
    // Its `ahead` says whether it declared itself small.
    auto r = *rival;
    auto counted = grants_.counts(r.job, now);
    r.recent = counted.recent;
    r.ahead = is_ahead(r.ahead, counted.total);
    jobs.push_back(r);
  }
  if (jobs.empty())
    return waiters_.end();
  auto best = rule_.pick(jobs);
  rival_wins = rival && best == jobs.size() - 1;
  return rival_wins ? waiters_.end() : oldest[best];
}

}  // namespace matchsync::upstream
