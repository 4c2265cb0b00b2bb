#include "actors/coordinator.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <set>

#include "actors/job_actor.hpp"
#include "actors/job_rules.hpp"
#include "actors/messages.hpp"
#include "actors/on_pool.hpp"
#include "core/log.hpp"
#include "persistence/job_store.hpp"

namespace matchsync {

namespace {

using clock = std::chrono::steady_clock;

struct slot {
  caf::actor actor;  // null while a restart is pending
  db::job_fence fence;
  int restarts = 0;
  bool finished = false;  // reported its final row
};

struct pending_cancel {
  std::vector<caf::response_promise> waiting;
  clock::time_point started;
};

struct coordinator_state {
  std::shared_ptr<job_context> ctx;
  std::shared_ptr<event_bus> bus;
  std::deque<std::int64_t> queue;  // pending jobs to start, oldest first
  std::set<std::int64_t> queued;
  int starting = 0;                // starts whose database write is in flight
  std::map<std::int64_t, slot> running;
  std::map<caf::actor_addr, std::int64_t> by_actor;
  std::map<std::int64_t, pending_cancel> cancels;
  bool stopping = false;
};

using coordinator_t = caf::stateful_actor<coordinator_state>;

int free_slots(coordinator_t* self) {
  auto& st = self->state;
  return st.ctx->cfg.slots - static_cast<int>(st.running.size()) - st.starting;
}

void publish(coordinator_t* self, const sync_job& job) { self->state.bus->publish(job); }

void update_gauges(coordinator_t* self) {
  if (self->state.ctx->stats)
    self->state.ctx->stats->set_running_jobs(static_cast<double>(self->state.running.size()));
}

void start_actor(coordinator_t* self, const sync_job& job, int restarts) {
  auto& st = self->state;
  db::job_fence fence{job.id, job.node.value_or(st.ctx->cfg.node_id), job.attempt};
  auto actor = spawn_job_actor(self, st.ctx, job, fence, restarts);
  st.running[job.id] = slot{actor, fence, restarts, false};
  st.by_actor[actor.address()] = job.id;
  update_gauges(self);
}

void dispatch(coordinator_t* self) {
  auto& st = self->state;
  while (!st.stopping && free_slots(self) > 0 && !st.queue.empty()) {
    auto id = st.queue.front();
    st.queue.pop_front();
    st.queued.erase(id);
    ++st.starting;
    auto node = st.ctx->cfg.node_id;
    auto lease = st.ctx->cfg.job_lease_s;
    on_pool(
      self, *st.ctx->control,
      [id, node, lease](db::session& s) {
        return s.run([&](pqxx::connection& c) { return db::job_store(c).start(id, node, lease); });
      },
      [self, id](attempt<std::optional<sync_job>> a) {
        auto& st = self->state;
        --st.starting;
        if (!a.ok()) {
          // The database is away: try again later, the job stays pending.
          log::warn("could not start job", {{"job", std::to_string(id)}, {"error", a.message}});
          if (st.queued.insert(id).second)
            st.queue.push_front(id);
          self->delayed_send(self, std::chrono::seconds(1), dispatch_atom::value);
          return;
        }
        if (a.value) {
          publish(self, *a.value);
          if (st.stopping)
            return;  // left running with its lease; resumed after a restart
          start_actor(self, *a.value, 0);
        }
        dispatch(self);
      });
  }
}

void enqueue(coordinator_t* self, std::int64_t id) {
  auto& st = self->state;
  if (st.running.count(id) == 0 && st.queued.insert(id).second)
    st.queue.push_back(id);
}

// Answers every cancel waiting for `row`'s job.
void answer_cancels(coordinator_t* self, const sync_job& row) {
  auto& st = self->state;
  auto it = st.cancels.find(row.id);
  if (it == st.cancels.end())
    return;
  auto latency = std::chrono::duration<double>(clock::now() - it->second.started).count();
  for (auto& rp : it->second.waiting) {
    if (row.status == job_status::cancelled)
      rp.deliver(row);
    else
      rp.deliver(make_error(errc::illegal_transition,
                            std::string("Cannot cancel job with status: ") +
                              to_string(row.status)));
  }
  st.cancels.erase(it);
  if (st.ctx->stats && row.status == job_status::cancelled)
    st.ctx->stats->cancel_latency(latency);
}

void fail_cancels(coordinator_t* self, std::int64_t id, errc code, const std::string& msg) {
  auto& st = self->state;
  auto it = st.cancels.find(id);
  if (it == st.cancels.end())
    return;
  for (auto& rp : it->second.waiting)
    rp.deliver(make_error(code, msg));
  st.cancels.erase(it);
}

// The job actor did not acknowledge in time (or is gone): stop it by force
// and write the cancelled state ourselves. The fence refuses its later writes.
void force_cancel(coordinator_t* self, std::int64_t id) {
  auto& st = self->state;
  auto it = st.running.find(id);
  if (it != st.running.end() && it->second.actor) {
    self->send_exit(it->second.actor, caf::exit_reason::kill);
    log::warn("cancel forced", {{"job", std::to_string(id)}});
  }
  on_pool(
    self, *st.ctx->control,
    [id](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        auto row = jobs.force_cancelled(id);
        return row ? row : jobs.find(id);
      });
    },
    [self, id](attempt<std::optional<sync_job>> a) {
      if (!a.ok() || !a.value) {
        fail_cancels(self, id, a.ok() ? errc::internal : a.code, a.message);
        return;
      }
      publish(self, *a.value);
      answer_cancels(self, *a.value);
    });
}

void cancel_running(coordinator_t* self, const sync_job& row) {
  auto& st = self->state;
  auto it = st.running.find(row.id);
  if (it == st.running.end() || !it->second.actor) {
    force_cancel(self, row.id);  // no live actor of ours: write it ourselves
    return;
  }
  auto timeout = std::chrono::milliseconds(st.ctx->cfg.cancel_timeout_ms);
  auto id = row.id;
  self->request<caf::message_priority::high>(it->second.actor, timeout, cancel_atom::value)
    .then(
      [self](sync_job& final_row) {
        publish(self, final_row);
        answer_cancels(self, final_row);
      },
      [self, id](caf::error&) { force_cancel(self, id); });
}

void handle_cancel(coordinator_t* self, std::int64_t user_id, std::int64_t job_id,
                   caf::response_promise rp) {
  auto& st = self->state;
  auto existing = st.cancels.find(job_id);
  if (existing != st.cancels.end()) {
    existing->second.waiting.push_back(rp);  // answered with the same row
    return;
  }
  st.cancels[job_id] = pending_cancel{{rp}, clock::now()};
  on_pool(
    self, *st.ctx->control,
    [user_id, job_id](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        auto job = jobs.find_for_user(user_id, job_id);
        if (!job)
          throw domain_error(errc::job_not_found, "Sync job not found");
        // 1. The request is persisted first.
        auto requested = can_cancel(job->status) ? jobs.request_cancel(job_id)
                                                 : std::nullopt;
        if (!requested) {
          job = jobs.find(job_id);
          throw domain_error(errc::illegal_transition,
                             std::string("Cannot cancel job with status: ") +
                               to_string(job->status));
        }
        // 2. A pending job becomes cancelled at once.
        if (requested->status == job_status::pending) {
          if (auto row = jobs.cancel_pending(job_id))
            return *row;
          requested = jobs.find(job_id);  // it started meanwhile
        }
        return *requested;
      });
    },
    [self, job_id](attempt<sync_job> a) {
      auto& st = self->state;
      if (!a.ok()) {
        fail_cancels(self, job_id, a.code, a.message);
        return;
      }
      if (st.queued.erase(job_id) > 0)
        st.queue.erase(std::find(st.queue.begin(), st.queue.end(), job_id));
      if (a.value.status == job_status::running) {
        cancel_running(self, a.value);
        return;
      }
      if (a.value.status == job_status::cancelled)
        publish(self, a.value);
      answer_cancels(self, a.value);
    });
}

void handle_trigger(coordinator_t* self, std::int64_t user_id, std::int64_t account_id,
                    job_type type, caf::response_promise rp) {
  on_pool(
    self, *self->state.ctx->control,
    [user_id, account_id, type](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        return db::job_store(c).create(user_id, account_id, type);
      });
    },
    [self, rp](attempt<sync_job> a) mutable {
      if (!a.ok()) {
        rp.deliver(make_error(a.code, a.message));
        return;
      }
      publish(self, a.value);
      enqueue(self, a.value.id);
      dispatch(self);
      rp.deliver(a.value);
    });
}

// A job actor ended: normally (its final row was reported or it stopped for
// shutdown), or it crashed and is restarted from its last committed step.
void on_job_down(coordinator_t* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto a = st.by_actor.find(dm.source);
  if (a == st.by_actor.end())
    return;
  auto id = a->second;
  st.by_actor.erase(a);
  auto it = st.running.find(id);
  if (it == st.running.end())
    return;
  auto& sl = it->second;
  sl.actor = nullptr;
  bool crashed = dm.reason && dm.reason != caf::exit_reason::normal &&
                 dm.reason != caf::exit_reason::kill && !sl.finished && !st.stopping;
  if (!crashed || st.cancels.count(id) > 0) {
    st.running.erase(it);
    update_gauges(self);
    if (st.stopping && st.running.empty())
      self->quit();
    else
      dispatch(self);
    return;
  }
  auto reason = message_of(dm.reason);
  auto fence = sl.fence;
  if (sl.restarts >= st.ctx->cfg.job_max_restarts) {
    log::error("job crashed too often", {{"job", std::to_string(id)}, {"error", reason}});
    on_pool(
      self, *st.ctx->control,
      [fence, reason](db::session& s) {
        return s.run([&](pqxx::connection& c) {
          db::job_store jobs(c);
          auto row = jobs.fail(fence, "job crashed: " + reason);
          return row ? row : jobs.find(fence.job_id);
        });
      },
      [self, id](attempt<std::optional<sync_job>> r) {
        if (r.ok() && r.value)
          publish(self, *r.value);
        self->state.running.erase(id);
        update_gauges(self);
        dispatch(self);
      });
    return;
  }
  int restarts = ++sl.restarts;
  auto delay = std::chrono::milliseconds(100 << std::min(restarts, 6));
  log::warn("job crashed, restarting", {{"job", std::to_string(id)},
                                        {"restart", std::to_string(restarts)},
                                        {"error", reason}});
  self->delayed_send(self, delay, run_atom::value, id);
}

// Restarts a crashed job from its committed row, if it is still ours.
void restart_job(coordinator_t* self, std::int64_t id) {
  auto& st = self->state;
  auto it = st.running.find(id);
  if (it == st.running.end() || it->second.actor)
    return;
  auto fence = it->second.fence;
  on_pool(
    self, *st.ctx->control,
    [id](db::session& s) {
      return s.run([&](pqxx::connection& c) { return db::job_store(c).find(id); });
    },
    [self, id, fence](attempt<std::optional<sync_job>> a) {
      auto& st = self->state;
      auto it = st.running.find(id);
      if (it == st.running.end())
        return;
      if (!a.ok()) {
        self->delayed_send(self, std::chrono::seconds(1), run_atom::value, id);
        return;
      }
      auto& row = a.value;
      if (!row || row->status != job_status::running || row->attempt != fence.attempt ||
          row->node != fence.node) {
        st.running.erase(it);  // ended or taken over meanwhile
        if (row)
          publish(self, *row);
        update_gauges(self);
        dispatch(self);
        return;
      }
      int restarts = it->second.restarts;
      st.running.erase(it);
      start_actor(self, *row, restarts);
    });
}

// Periodic: renew our leases, fail jobs that lost their owner too often,
// resume the others on free slots, and pick up pending jobs nobody queued.
void tick(coordinator_t* self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto node = st.ctx->cfg.node_id;
  auto lease = st.ctx->cfg.job_lease_s;
  auto max_attempts = st.ctx->cfg.job_max_attempts;
  int limit = std::max(0, free_slots(self));
  struct result {
    std::vector<sync_job> taken, failed, pending;
  };
  st.starting += limit;  // reserve the slots while the takeover runs
  on_pool(
    self, *st.ctx->control,
    [node, lease, max_attempts, limit](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        result r;
        jobs.renew_leases(node, lease);
        r.taken = jobs.take_over_expired(node, lease, max_attempts, &r.failed, limit);
        r.pending = jobs.list_by_status(job_status::pending);
        return r;
      });
    },
    [self, limit](attempt<result> a) {
      auto& st = self->state;
      st.starting -= limit;
      if (!a.ok()) {
        log::warn("lease round failed", {{"error", a.message}});
        return;
      }
      for (auto& j : a.value.failed) {
        log::warn("job lost its owner too often", {{"job", std::to_string(j.id)}});
        publish(self, j);
      }
      for (auto& j : a.value.taken) {
        log::info("resuming job", {{"job", std::to_string(j.id)},
                                   {"attempt", std::to_string(j.attempt)}});
        publish(self, j);
        start_actor(self, j, 0);
      }
      for (auto& j : a.value.pending)
        if (st.cancels.count(j.id) == 0)
          enqueue(self, j.id);
      dispatch(self);
    });
}

caf::behavior coordinator(coordinator_t* self, std::shared_ptr<job_context> ctx,
                          std::shared_ptr<event_bus> bus) {
  self->state.ctx = std::move(ctx);
  self->state.bus = std::move(bus);
  self->set_down_handler([self](caf::down_msg& dm) { on_job_down(self, dm); });
  auto period = std::chrono::milliseconds(
    std::max(200, self->state.ctx->cfg.job_lease_s * 1000 / 3));
  self->send(self, tick_atom::value);
  return {
    [=](trigger_atom, std::int64_t user_id, std::int64_t account_id,
        job_type type) -> caf::response_promise {
      auto rp = self->make_response_promise();
      handle_trigger(self, user_id, account_id, type, rp);
      return rp;
    },
    [=](cancel_atom, std::int64_t user_id, std::int64_t job_id) -> caf::response_promise {
      auto rp = self->make_response_promise();
      handle_cancel(self, user_id, job_id, rp);
      return rp;
    },
    [=](progress_atom, sync_job& job) { publish(self, job); },
    [=](finished_atom, sync_job& job) {
      auto it = self->state.running.find(job.id);
      if (it != self->state.running.end())
        it->second.finished = true;
      publish(self, job);
      if (is_terminal(job.status))
        answer_cancels(self, job);
      else if (self->state.cancels.count(job.id) > 0)
        force_cancel(self, job.id);  // the actor gave up without a final write
    },
    [=](caf::get_atom, running_atom) {
      std::vector<std::int64_t> ids;
      for (auto& [id, sl] : self->state.running)
        ids.push_back(id);
      return ids;
    },
    [=](continuation& c) { c.fn(); },
    [=](dispatch_atom) { dispatch(self); },
    [=](run_atom, std::int64_t id) { restart_job(self, id); },
    [=](tick_atom) {
      tick(self);
      self->delayed_send(self, period, tick_atom::value);
    },
    [=](shutdown_atom) {
      auto& st = self->state;
      st.stopping = true;
      for (auto& [id, sl] : st.running)
        if (sl.actor)
          self->send(sl.actor, shutdown_atom::value);
      if (st.running.empty())
        self->quit();
    },
  };
}

}  // namespace

caf::actor spawn_coordinator(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                             std::shared_ptr<event_bus> bus) {
  return sys.spawn(coordinator, std::move(ctx), std::move(bus));
}

}  // namespace matchsync
