#include "actors/cluster_budget.hpp"

#include <vector>

#include "actors/messages.hpp"
#include "upstream/minute_rule.hpp"

namespace matchsync {

namespace {

// Asks the coordinator for slots, one request at a time (leased_budget asks
// again only after an answer or its own timeout), and hands the answer in.
// An ask names the job it is for, so the coordinator weighs that job's claim
// against the cluster's others; a coordinator too old to know that form
// answers "unexpected message", and from then on hears the older one, for
// the node as a whole.
caf::behavior leaser(caf::event_based_actor* self, caf::actor coordinator,
                     std::weak_ptr<upstream::leased_budget> budget) {
  auto older = std::make_shared<bool>(false);
  return {[=](budget_atom, std::int32_t count, std::int64_t job) {
    // Job ids are positive; a plain acquire's key (no job) is not.
    auto ask = job > 0 && !*older ? caf::make_message(budget_atom::value, count, job)
                                  : caf::make_message(budget_atom::value, count);
    self->request(coordinator, std::chrono::seconds(5), std::move(ask))
      .then(
        [budget](std::vector<std::int64_t>& delays, std::int64_t grace_ms) {
          if (auto b = budget.lock())
            b->grant(delays, grace_ms);
        },
        [budget, older](caf::error& err) {
          if (err == caf::sec::unexpected_message)
            *older = true;
          if (auto b = budget.lock())
            b->refuse();  // unreachable, or asked in the newer form: ask again in a second
        });
  }};
}

}  // namespace

leased_rate_budget::leased_rate_budget(caf::actor_system& sys, caf::actor coordinator,
                                       int lease_size) {
  // The ask only enqueues a message: the caller, a step's thread, goes back
  // to its wait at once.
  auto mailbox = std::make_shared<caf::actor>();
  slots_ = std::make_shared<upstream::leased_budget>(
    [mailbox](std::int32_t count, upstream::job_claim who) {
      caf::anon_send(*mailbox, budget_atom::value, count, static_cast<std::int64_t>(who.job));
    },
    lease_size);
  leaser_ = sys.spawn(leaser, std::move(coordinator),
                      std::weak_ptr<upstream::leased_budget>(slots_));
  *mailbox = leaser_;
}

leased_rate_budget::~leased_rate_budget() {
  caf::anon_send_exit(leaser_, caf::exit_reason::user_shutdown);
}

void leased_rate_budget::hold_until_next_minute() {
  // Clock minutes are wall-clock ones; the budget's waits are steady.
  auto wall = std::chrono::system_clock::now().time_since_epoch();
  auto next = upstream::next_clock_minute(wall, std::chrono::seconds(1));
  slots_->hold_until(upstream::leased_budget::clock::now() +
                     std::chrono::duration_cast<upstream::leased_budget::clock::duration>(next - wall));
}

bool leased_rate_budget::acquire(upstream::cancel_token& token) {
  return slots_->acquire(token);
}

bool leased_rate_budget::acquire_as(upstream::job_claim who, upstream::cancel_token& token) {
  return slots_->acquire_as(who, token);
}

}  // namespace matchsync
