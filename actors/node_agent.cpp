#include "actors/node_agent.hpp"

#include <chrono>
#include <map>

#include "actors/job_actor.hpp"
#include "actors/messages.hpp"
#include "actors/on_pool.hpp"
#include "core/log.hpp"
#include "persistence/job_store.hpp"

namespace matchsync {

namespace {

struct slot {
  caf::actor actor;  // null while a restart is pending
  db::job_fence fence;
  int restarts = 0;
  bool finished = false;  // reported its final row
};

struct agent_state {
  std::shared_ptr<job_context> ctx;
  caf::actor coordinator;
  std::map<std::int64_t, slot> running;
  std::map<caf::actor_addr, std::int64_t> by_actor;
  bool stopping = false;
};

using agent_t = caf::stateful_actor<agent_state>;

void start_actor(agent_t* self, const sync_job& job, int restarts) {
  auto& st = self->state;
  db::job_fence fence{job.id, job.node.value_or(st.ctx->cfg.node_id), job.attempt};
  auto actor = spawn_job_actor(self, st.ctx, job, fence, restarts);
  st.running[job.id] = slot{actor, fence, restarts, false};
  st.by_actor[actor.address()] = job.id;
  if (st.ctx->stats)
    st.ctx->stats->set_running_jobs(static_cast<double>(st.running.size()));
}

// The slot is free for good: tell the coordinator.
void release(agent_t* self, std::int64_t id) {
  auto& st = self->state;
  st.running.erase(id);
  if (st.ctx->stats)
    st.ctx->stats->set_running_jobs(static_cast<double>(st.running.size()));
  self->send(st.coordinator, released_atom::value, id);
  if (st.stopping && st.running.empty())
    self->quit();
}

void on_job_down(agent_t* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto a = st.by_actor.find(dm.source);
  if (a == st.by_actor.end())
    return;  // the coordinator (handled by the worker role)
  auto id = a->second;
  st.by_actor.erase(a);
  auto it = st.running.find(id);
  if (it == st.running.end())
    return;
  auto& sl = it->second;
  sl.actor = nullptr;
  bool crashed = dm.reason && dm.reason != caf::exit_reason::normal &&
                 dm.reason != caf::exit_reason::kill && !sl.finished && !st.stopping;
  if (!crashed) {
    release(self, id);
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
          self->send(self->state.coordinator, finished_atom::value, *r.value);
        release(self, id);
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
void restart_job(agent_t* self, std::int64_t id) {
  auto& st = self->state;
  auto it = st.running.find(id);
  if (it == st.running.end() || it->second.actor)
    return;
  if (st.stopping) {
    release(self, id);
    return;
  }
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
        if (row)
          self->send(st.coordinator, finished_atom::value, *row);
        release(self, id);  // ended or taken over meanwhile
        return;
      }
      int restarts = it->second.restarts;
      st.running.erase(it);
      start_actor(self, *row, restarts);
    });
}

caf::behavior node_agent(agent_t* self, std::shared_ptr<job_context> ctx,
                         caf::actor coordinator) {
  self->state.ctx = std::move(ctx);
  self->state.coordinator = std::move(coordinator);
  self->set_down_handler([self](caf::down_msg& dm) { on_job_down(self, dm); });
  auto period = std::chrono::milliseconds(
    std::max(200, self->state.ctx->cfg.job_lease_s * 1000 / 3));
  self->send(self, tick_atom::value);
  return {
    [=](run_atom, sync_job& job) {
      if (self->state.stopping) {
        self->send(self->state.coordinator, released_atom::value, job.id);
        return;
      }
      start_actor(self, job, 0);
    },
    [=](run_atom, std::int64_t id) { restart_job(self, id); },
    [=](cancel_atom, std::int64_t job_id) -> caf::response_promise {
      auto rp = self->make_response_promise();
      auto it = self->state.running.find(job_id);
      if (it == self->state.running.end() || !it->second.actor) {
        rp.deliver(make_error(errc::job_not_found, "no live actor for this job here"));
        return rp;
      }
      // The coordinator's request carries the deadline.
      self->request<caf::message_priority::high>(it->second.actor, caf::infinite,
                                                 cancel_atom::value)
        .then([rp](sync_job& row) mutable { rp.deliver(std::move(row)); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](kill_job_atom, std::int64_t job_id) {
      auto it = self->state.running.find(job_id);
      if (it != self->state.running.end() && it->second.actor)
        self->send_exit(it->second.actor, caf::exit_reason::kill);
    },
    [=](progress_atom, sync_job& job) {
      self->send(self->state.coordinator, progress_atom::value, std::move(job));
    },
    [=](job_wait_atom, std::int64_t user, std::int64_t job, std::string& reason,
        std::int64_t wait_ms, std::int32_t waits) {
      self->send(self->state.coordinator, job_wait_atom::value, user, job, std::move(reason),
                 wait_ms, waits);
    },
    [=](finished_atom, sync_job& job) {
      auto it = self->state.running.find(job.id);
      if (it != self->state.running.end())
        it->second.finished = true;
      self->send(self->state.coordinator, finished_atom::value, std::move(job));
    },
    [=](caf::get_atom, running_atom) {
      std::vector<std::int64_t> ids;
      for (auto& [id, sl] : self->state.running)
        ids.push_back(id);
      return ids;
    },
    [=](continuation& c) { c.fn(); },
    [=](tick_atom) {
      auto& st = self->state;
      if (st.stopping)
        return;
      // Renew our jobs' leases: silence past the lease means we are gone.
      auto node = st.ctx->cfg.node_id;
      auto lease = st.ctx->cfg.job_lease_s;
      if (!st.running.empty())
        on_pool(
          self, *st.ctx->control,
          [node, lease](db::session& s) {
            return s.run([&](pqxx::connection& c) {
              return db::job_store(c).renew_leases(node, lease);
            });
          },
          [](attempt<int>) {});
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

caf::actor spawn_node_agent(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                            caf::actor coordinator) {
  return sys.spawn(node_agent, std::move(ctx), std::move(coordinator));
}

}  // namespace matchsync
