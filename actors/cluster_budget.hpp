// The upstream budget of a worker node: slots of the one cluster budget,
// leased a few at a time from the coordinator, so all nodes together never
// exceed MATCHSYNC_UPSTREAM_RATE_PER_MINUTE. A node that dies loses only the
// slots it leased and did not use.
//
// The waiting is upstream::leased_budget's (free of CAF); one leaser actor per
// link asks the coordinator and hands the answer in. A step's thread only
// posts "ask" to that actor and waits on a condition its cancel wakes: it
// never spawns an actor, never blocks a scheduler thread, and never holds a
// lock while the coordinator is silent.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "upstream/leased_budget.hpp"

namespace matchsync {

class leased_rate_budget final : public upstream::rate_budget {
public:
  /// `lease_size` slots are asked for at a time; an unanswered lease request
  /// gives up after 5 s and is asked again a second later.
  leased_rate_budget(caf::actor_system& sys, caf::actor coordinator, int lease_size = 2);
  ~leased_rate_budget() override;

  /// False once the token is cancelled: every wait here, the coordinator's
  /// answer included, hears the cancel at once.
  bool acquire(upstream::cancel_token& token) override;
  /// As acquire, for a job: this node's jobs share its slots by the
  /// fair-share rule, and each lease request names the job ranked first.
  bool acquire_as(upstream::job_claim who, upstream::cancel_token& token) override;

  /// Drops the leased slots of this clock minute, starts nothing on this
  /// node before the next one, and tells the coordinator, whose budget then
  /// lends no slot before it either. (Slots other nodes leased before the
  /// word arrived, two a node at most, still start: the upstream answers
  /// them 429, which waits for the next minute too.)
  void hold_until_next_minute() override;

  /// Lease requests sent so far.
  int asks() const { return slots_->asks(); }

private:
  std::shared_ptr<upstream::leased_budget> slots_;
  caf::actor leaser_;
};

}  // namespace matchsync
