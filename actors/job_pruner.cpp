#include "actors/job_pruner.hpp"

#include <vector>

#include <caf/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/messages.hpp"
#include "actors/on_pool.hpp"
#include "core/log.hpp"
#include "metrics/metrics.hpp"
#include "persistence/job_store.hpp"

namespace matchsync {

namespace {

struct pruner_state {
  retention::policy policy;
  blocking_pool* control = nullptr;
  metrics* stats = nullptr;
  bool running = false;
  std::int64_t cutoff = 0;
  int batches = 0;
  int deleted = 0;
  std::vector<caf::response_promise> waiting;
  static inline const char* name = "job_pruner";
};

using pruner = caf::stateful_actor<pruner_state>;

void finish(pruner* self) {
  auto& st = self->state;
  st.running = false;
  if (st.deleted > 0)
    log::info("job retention: pruned terminal jobs",
              {{"rows", std::to_string(st.deleted)},
               {"batches", std::to_string(st.batches)},
               {"older_than_days", std::to_string(st.policy.days)}});
  for (auto& rp : st.waiting)
    rp.deliver(st.deleted);
  st.waiting.clear();
}

// One DELETE of at most batch_size rows; the next is queued only once it is
// committed, so a pass holds one connection of the control pool at a time.
void next_batch(pruner* self) {
  auto& st = self->state;
  auto cutoff = st.cutoff;
  auto limit = st.policy.batch_size;
  on_pool(
    self, *st.control,
    [cutoff, limit](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        return db::job_store(c).prune_terminal(cutoff, limit);
      });
    },
    [self](attempt<std::vector<job_count>> a) {
      auto& st = self->state;
      if (!a.ok()) {
        // The database is away: the rest waits for the next pass.
        log::warn("job retention: a batch failed", {{"error", a.message}});
        finish(self);
        return;
      }
      ++st.batches;
      int rows = 0;
      for (auto& c : a.value)
        rows += static_cast<int>(c.n);
      st.deleted += rows;
      if (st.stats && rows > 0) {
        st.stats->jobs_pruned(rows);
        st.stats->jobs().removed(a.value);  // the jobs gauge, without a scan
      }
      if (retention::another_batch(st.policy, rows, st.batches))
        next_batch(self);
      else
        finish(self);
    });
}

void start_pass(pruner* self) {
  auto& st = self->state;
  if (st.running)
    return;
  auto cutoff = retention::cutoff(st.policy, retention::clock::now());
  st.batches = 0;
  st.deleted = 0;
  if (!cutoff) {  // retention off: keep every job
    finish(self);
    return;
  }
  st.running = true;
  st.cutoff = retention::cutoff_epoch_seconds(*cutoff);
  next_batch(self);
}

caf::behavior pruner_behavior(pruner* self, retention::policy policy, blocking_pool* control,
                              metrics* stats, std::chrono::milliseconds first_delay) {
  self->state.policy = policy;
  self->state.control = control;
  self->state.stats = stats;
  self->delayed_send(self, first_delay, tick_atom::value);
  return {
    [=](tick_atom) {
      start_pass(self);
      self->delayed_send(self, self->state.policy.period, tick_atom::value);
    },
    [=](run_atom) -> caf::result<int> {
      auto rp = self->make_response_promise<int>();
      self->state.waiting.push_back(rp);
      start_pass(self);
      return rp;
    },
    [=](continuation& c) { c.fn(); },
    [=](shutdown_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_job_pruner(caf::actor_system& sys, retention::policy policy,
                            blocking_pool& control, metrics* stats,
                            std::chrono::milliseconds first_delay) {
  return sys.spawn(pruner_behavior, policy, &control, stats, first_delay);
}

}  // namespace matchsync
