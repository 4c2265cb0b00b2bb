#include "actors/cluster_budget.hpp"

#include <vector>

#include "actors/messages.hpp"
#include "upstream/minute_rule.hpp"

namespace matchsync {

namespace {

struct leaser_state {
  // Until then, asks are in the older form (see leaser).
  std::chrono::steady_clock::time_point older_until{};
};

// Asks the coordinator for slots, one request at a time (leased_budget asks
// again only after an answer or its own timeout), and hands the answer in.
// An ask names the job it is for, so the coordinator weighs that job's claim
// against the cluster's others. A coordinator too old to know that form
// refuses it (its session: "refused"; CAF: "unexpected message"); any such
// answer but a timeout or "not this turn" is asked again at once in the older form, for the
// node as a whole, and for a minute asks stay in that form (a refusal can
// also be a job released a moment before: then the next minute is fair
// between nodes as before, not between their jobs). "Not this turn"
// (errc::try_later) is the coordinator's lease queue at a request's
// deadline: the job was not ranked first among the cluster's waiting jobs
// for 2 s; asked again at once, in the same form.
caf::behavior leaser(caf::stateful_actor<leaser_state>* self, caf::actor coordinator,
                     std::weak_ptr<upstream::leased_budget> budget) {
  return {[=](hold_atom a) { self->send(coordinator, a); },
          [=](budget_atom, std::int32_t count, std::int64_t job) {
    auto hand_in = [budget](std::vector<std::int64_t>& delays, std::int64_t grace_ms) {
      if (auto b = budget.lock())
        b->grant(delays, grace_ms);
    };
    auto unreachable = [budget](caf::error& err) {
      if (auto b = budget.lock()) {
        // "Not this turn" (the coordinator held the request until its
        // deadline, upstream/lease_queue.hpp): ask again at once.
        if (code_of(err) == errc::try_later)
          b->refuse(std::chrono::milliseconds(0));
        else
          b->refuse();  // ask again in a second
      }
    };
    auto ask_older = [=] {
      self->request(coordinator, std::chrono::seconds(5), budget_atom::value, count)
        .then(hand_in, unreachable);
    };
    auto now = std::chrono::steady_clock::now();
    // Job ids are positive; a plain acquire's key (no job) is not.
    if (job <= 0 || now < self->state.older_until) {
      ask_older();
      return;
    }
    self->request(coordinator, std::chrono::seconds(5), budget_atom::value, count, job)
      .then(hand_in, [=](caf::error& err) mutable {
        if (err == caf::sec::request_timeout || code_of(err) == errc::try_later) {
          unreachable(err);
          return;
        }
        self->state.older_until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
        ask_older();
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
  // The budget is the cluster's: its other nodes hold too (SPEC §2).
  caf::anon_send(leaser_, hold_atom::value);
}

bool leased_rate_budget::acquire(upstream::cancel_token& token) {
  return slots_->acquire(token);
}

bool leased_rate_budget::acquire_as(upstream::job_claim who, upstream::cancel_token& token) {
  return slots_->acquire_as(who, token);
}

}  // namespace matchsync
