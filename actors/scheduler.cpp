#include "actors/scheduler.hpp"

#include <vector>

#include <caf/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/messages.hpp"
#include "actors/on_pool.hpp"
#include "core/log.hpp"
#include "core/schedule_rules.hpp"
#include "persistence/job_store.hpp"
#include "persistence/schedule_store.hpp"
#include "persistence/upstream_quota_store.hpp"
#include "upstream/quota_day.hpp"

namespace matchsync {

namespace {

struct scheduler_state {
  config cfg;
  blocking_pool* control = nullptr;
  caf::actor coordinator;
  bool running = false;
  std::vector<caf::response_promise> waiting;  // answered when this pass ends
  std::vector<caf::response_promise> next;     // asked during a pass: the one after
  static inline const char* name = "scheduler";
};

using scheduler_t = caf::stateful_actor<scheduler_state>;

struct pass_result {
  std::vector<sync_job> started;
  int skipped = 0;
  int deferred = 0;
};

// At most this many schedules a pass: the rest are due at the next one.
constexpr int pass_limit = 200;

pass_result run_due(pqxx::connection& c, const config& cfg) {
  using namespace std::chrono;
  auto wall = system_clock::now().time_since_epoch();
  auto now = duration_cast<seconds>(wall).count();
  auto day = upstream::quota_day_of(wall, cfg.upstream_day_start_minute);
  auto next_day = duration_cast<seconds>(
                    upstream::quota_day_start(day + 1, cfg.upstream_day_start_minute))
                    .count();
  pass_result out;
  pqxx::work tx(c);
  auto due = db::schedule_store::lock_due(tx, now, pass_limit);
  if (due.empty())
    return out;
  auto quota = db::upstream_quota_store::read(tx, upstream::quota_day_date(day));
  bool share_left =
    !quota.spent && schedule::scheduled_share_left(quota.used, cfg.upstream_daily_limit,
                                                   cfg.schedule_quota_share);
  for (auto& d : due) {
    schedule::due_input in;
    in.now = now;
    in.user_id = d.user_id;
    in.interval_minutes = d.interval_minutes;
    in.user_has_active_job = d.user_has_active_job;
    in.quota_share_left = share_left;
    in.next_quota_day = next_day;
    auto decided = schedule::on_due(in);
    std::optional<std::int64_t> job_id;
    if (decided.what == schedule::action::start) {
      // A user's own trigger may have won the race for the active slot.
      if (auto job = db::job_store::create_scheduled(tx, d.user_id, d.account_id)) {
        job_id = job->id;
        out.started.push_back(*job);
      } else {
        ++out.skipped;
      }
    } else if (decided.what == schedule::action::skip) {
      ++out.skipped;
    } else {
      ++out.deferred;
    }
    db::schedule_store::advance(tx, d.user_id, decided.next_run_at, job_id);
  }
  tx.commit();
  return out;
}

void start_pass(scheduler_t* self) {
  auto& st = self->state;
  if (st.running)
    return;
  st.running = true;
  auto cfg = st.cfg;
  on_pool(
    self, *st.control,
    [cfg](db::session& s) {
      return s.run([&](pqxx::connection& c) { return run_due(c, cfg); });
    },
    [self](attempt<pass_result> a) {
      auto& st = self->state;
      st.running = false;
      std::int64_t started = 0;
      if (!a.ok()) {
        // Nothing was committed: the same schedules are due at the next pass.
        log::warn("schedules: a pass failed", {{"error", a.message}});
      } else {
        started = static_cast<std::int64_t>(a.value.started.size());
        for (auto& job : a.value.started)
          self->send(st.coordinator, scheduled_atom::value, job);
        if (started + a.value.skipped + a.value.deferred > 0)
          log::info("schedules: due runs",
                    {{"started", std::to_string(started)},
                     {"skipped", std::to_string(a.value.skipped)},
                     {"deferred", std::to_string(a.value.deferred)}});
      }
      for (auto& rp : st.waiting)
        rp.deliver(started);
      st.waiting = std::move(st.next);
      st.next.clear();
      if (!st.waiting.empty())
        start_pass(self);
    });
}

caf::behavior scheduler(scheduler_t* self, config cfg, blocking_pool* control,
                        caf::actor coordinator, std::chrono::milliseconds period) {
  self->state.cfg = std::move(cfg);
  self->state.control = control;
  self->state.coordinator = std::move(coordinator);
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      start_pass(self);
      self->delayed_send(self, period, tick_atom::value);
    },
    [=](run_atom) -> caf::result<std::int64_t> {
      // A pass that begins after the ask: what it changed before is seen.
      auto rp = self->make_response_promise<std::int64_t>();
      auto& st = self->state;
      (st.running ? st.next : st.waiting).push_back(rp);
      start_pass(self);
      return rp;
    },
    [=](continuation& c) { c.fn(); },
    [=](shutdown_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_scheduler(caf::actor_system& sys, const config& cfg, blocking_pool& control,
                           caf::actor coordinator, std::chrono::milliseconds period) {
  return sys.spawn(scheduler, cfg, &control, std::move(coordinator), period);
}

}  // namespace matchsync
