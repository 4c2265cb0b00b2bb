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

// One run (job, attempt) on this node. Two runs of one job can be here at
// once: a takeover after our lease ran out (a database cut longer than the
// lease) hands us the next attempt while the old actor still stops.
struct slot {
  caf::actor actor;  // null while a restart is pending
  db::job_fence fence;
  int restarts = 0;
  bool finished = false;    // reported its final row
  bool superseded = false;  // a later run of the job exists: stopping, never restarted
};

struct agent_state {
  std::shared_ptr<job_context> ctx;
  caf::actor coordinator;
  std::map<job_run, slot> running;
  std::map<caf::actor_addr, job_run> by_actor;
  bool stopping = false;
  bool remote = false;         // a worker's agent: the coordinator is another process
  bool joined = false;         // the coordinator accepted our node's join
  bool alive_pending = false;  // an `alive` to the coordinator awaits its answer
};

using agent_t = caf::stateful_actor<agent_state>;

void count_running(agent_t* self) {
  auto& st = self->state;
  if (st.ctx->stats)
    st.ctx->stats->set_running_jobs(static_cast<double>(st.running.size()));
}

// The slot is free for good: tell the coordinator.
void release(agent_t* self, job_run run) {
  auto& st = self->state;
  st.running.erase(run);
  count_running(self);
  self->send(st.coordinator, released_atom::value, run.job_id, run.attempt);
  if (st.stopping && st.running.empty())
    self->quit();
}

// A later run of the job exists: the older one stops now (its token is
// cancelled as it exits, which ends its in-flight upstream request), and its
// slot is released when it is down.
void supersede(agent_t* self, job_run run) {
  auto& st = self->state;
  auto it = st.running.find(run);
  if (it == st.running.end())
    return;
  it->second.superseded = true;
  log::warn("stopping a superseded run", {{"job", std::to_string(run.job_id)},
                                          {"attempt", std::to_string(run.attempt)}});
  if (it->second.actor)
    self->send_exit(it->second.actor, caf::exit_reason::kill);
  else
    release(self, run);  // a restart was pending: it never comes
}

void start_actor(agent_t* self, const sync_job& job, int restarts) {
  auto& st = self->state;
  job_run run{job.id, job.attempt};
  std::vector<job_run> older;
  for (auto& [r, sl] : st.running)
    if (r.job_id == job.id && r.attempt < job.attempt)
      older.push_back(r);
  for (auto& r : older)
    supersede(self, r);
  db::job_fence fence{job.id, job.node.value_or(st.ctx->cfg.node_id), job.attempt};
  auto actor = spawn_job_actor(self, st.ctx, job, fence, restarts);
  st.running[run] = slot{actor, fence, restarts, false, false};
  st.by_actor[actor.address()] = run;
  count_running(self);
}

// A graceful stop: the run is handed over (its lease ends now and the next
// live node resumes it without counting an attempt), then released.
void hand_over(agent_t* self, job_run run) {
  auto& st = self->state;
  auto fence = st.running.at(run).fence;
  on_pool(
    self, *st.ctx->control,
    [fence](db::session& s) {
      return s.run([&](pqxx::connection& c) { return db::job_store(c).hand_over(fence); });
    },
    [self, run](attempt<bool>) { release(self, run); });
}

void on_job_down(agent_t* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto a = st.by_actor.find(dm.source);
  if (a == st.by_actor.end())
    return;  // the coordinator (handled by the worker role)
  auto run = a->second;
  auto id = run.job_id;
  st.by_actor.erase(a);
  auto it = st.running.find(run);
  if (it == st.running.end())
    return;
  auto& sl = it->second;
  sl.actor = nullptr;
  if (st.stopping && !sl.finished && !sl.superseded) {
    hand_over(self, run);
    return;
  }
  bool crashed = dm.reason && dm.reason != caf::exit_reason::normal &&
                 dm.reason != caf::exit_reason::kill && !sl.finished && !sl.superseded;
  if (!crashed) {
    release(self, run);
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
      [self, run](attempt<std::optional<sync_job>> r) {
        if (r.ok() && r.value)
          self->send(self->state.coordinator, finished_atom::value, *r.value);
        release(self, run);
      });
    return;
  }
  int restarts = ++sl.restarts;
  auto delay = std::chrono::milliseconds(100 << std::min(restarts, 6));
  log::warn("job crashed, restarting", {{"job", std::to_string(id)},
                                        {"restart", std::to_string(restarts)},
                                        {"error", reason}});
  self->delayed_send(self, delay, run_atom::value, id, run.attempt);
}

// Restarts a crashed run from its committed row, if it is still ours.
void restart_job(agent_t* self, job_run run) {
  auto& st = self->state;
  auto id = run.job_id;
  auto it = st.running.find(run);
  if (it == st.running.end() || it->second.actor)
    return;
  if (st.stopping) {
    hand_over(self, run);
    return;
  }
  auto fence = it->second.fence;
  on_pool(
    self, *st.ctx->control,
    [id](db::session& s) {
      return s.run([&](pqxx::connection& c) { return db::job_store(c).find(id); });
    },
    [self, run, fence](attempt<std::optional<sync_job>> a) {
      auto& st = self->state;
      auto it = st.running.find(run);
      if (it == st.running.end() || it->second.actor)
        return;
      if (!a.ok()) {
        self->delayed_send(self, std::chrono::seconds(1), run_atom::value, run.job_id,
                           run.attempt);
        return;
      }
      auto& row = a.value;
      if (!row || row->status != job_status::running || row->attempt != fence.attempt ||
          row->node != fence.node) {
        if (row && is_terminal(row->status))
          self->send(st.coordinator, finished_atom::value, *row);
        release(self, run);  // ended or taken over meanwhile
        return;
      }
      int restarts = it->second.restarts;
      st.running.erase(it);
      start_actor(self, *row, restarts);
    });
}

// Renews the leases of exactly the runs we have, tells the coordinator we are
// alive, and stops runs the database says were taken over.
void tick(agent_t* self) {
  auto& st = self->state;
  std::vector<job_run> runs;
  for (auto& [run, sl] : st.running)
    if (!sl.superseded)
      runs.push_back(run);
  auto node = st.ctx->cfg.node_id;
  auto lease = st.ctx->cfg.job_lease_s;
  if (!runs.empty())
    on_pool(
      self, *st.ctx->control,
      [node, runs, lease](db::session& s) {
        return s.run([&](pqxx::connection& c) {
          return db::job_store(c).renew_leases(node, runs, lease);
        });
      },
      [self](attempt<std::vector<job_run>> a) {
        for (auto& run : a.value)
          supersede(self, run);
      });
  // Before our join is accepted the coordinator does not know us yet: an
  // `alive` then would be refused and read as "dropped".
  if (st.alive_pending || !st.joined)
    return;
  st.alive_pending = true;
  auto timeout = std::chrono::seconds(node_timeout_s(st.ctx->cfg));
  self->request(st.coordinator, timeout, alive_atom::value)
    .then([self](caf::ok_atom) { self->state.alive_pending = false; },
          [self](caf::error& err) {
            auto& st = self->state;
            st.alive_pending = false;
            if (!st.remote || st.stopping)
              return;  // serve's own node is never dropped
            // Dropped by the coordinator, or it stopped answering: our link
            // is broken, whatever our side of the connection says. Stop at
            // step boundaries and hand over; the worker joins again.
            log::warn("the coordinator does not know this node any more; leaving to join again",
                      {{"error", message_of(err)}});
            self->send(self, shutdown_atom::value);
          });
}

caf::behavior node_agent(agent_t* self, std::shared_ptr<job_context> ctx,
                         caf::actor coordinator, bool remote) {
  self->state.remote = remote;
  self->state.ctx = std::move(ctx);
  self->state.coordinator = std::move(coordinator);
  self->set_down_handler([self](caf::down_msg& dm) { on_job_down(self, dm); });
  auto period = std::chrono::milliseconds(
    std::max(200, self->state.ctx->cfg.job_lease_s * 1000 / 3));
  self->send(self, tick_atom::value);
  return {
    [=](run_atom, sync_job& job) {
      auto& st = self->state;
      if (st.stopping) {
        // Handed to us while we stop: hand it straight back.
        db::job_fence fence{job.id, job.node.value_or(st.ctx->cfg.node_id), job.attempt};
        on_pool(
          self, *st.ctx->control,
          [fence](db::session& s) {
            return s.run([&](pqxx::connection& c) { return db::job_store(c).hand_over(fence); });
          },
          [self, fence](attempt<bool>) {
            self->send(self->state.coordinator, released_atom::value, fence.job_id,
                       fence.attempt);
          });
        return;
      }
      start_actor(self, job, 0);
    },
    [=](join_atom) { self->state.joined = true; },
    [=](run_atom, std::int64_t id, std::int32_t attempt) {
      restart_job(self, job_run{id, attempt});
    },
    [=](cancel_atom, std::int64_t job_id, std::int32_t attempt) -> caf::response_promise {
      auto rp = self->make_response_promise();
      auto it = self->state.running.find(job_run{job_id, attempt});
      if (it == self->state.running.end() || !it->second.actor || it->second.superseded) {
        rp.deliver(make_error(errc::job_not_found, "no live actor for this run here"));
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
      // Every run of the job here: none may outlive a forced cancel.
      for (auto& [run, sl] : self->state.running)
        if (run.job_id == job_id && sl.actor)
          self->send_exit(sl.actor, caf::exit_reason::kill);
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
      auto& st = self->state;
      auto from = st.by_actor.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      auto it = from == st.by_actor.end() ? st.running.end() : st.running.find(from->second);
      if (it != st.running.end()) {
        it->second.finished = true;
        // A superseded run found itself fenced: the job is not its to report.
        if (it->second.superseded && !is_terminal(job.status))
          return;
      }
      self->send(st.coordinator, finished_atom::value, std::move(job));
    },
    [=](caf::get_atom, running_atom) {
      std::vector<std::int64_t> ids;
      for (auto& [run, sl] : self->state.running)
        if (ids.empty() || ids.back() != run.job_id)
          ids.push_back(run.job_id);
      return ids;
    },
    [=](continuation& c) { c.fn(); },
    [=](tick_atom) {
      if (self->state.stopping)
        return;
      tick(self);
      self->delayed_send(self, period, tick_atom::value);
    },
    [=](shutdown_atom) {
      auto& st = self->state;
      if (st.stopping)
        return;
      st.stopping = true;
      for (auto& [run, sl] : st.running)
        if (sl.actor)
          self->send(sl.actor, shutdown_atom::value);
      // Restarts still pending are handed over now.
      std::vector<job_run> idle;
      for (auto& [run, sl] : st.running)
        if (!sl.actor)
          idle.push_back(run);
      for (auto& run : idle)
        if (st.running.at(run).superseded)
          release(self, run);
        else
          hand_over(self, run);
      if (st.running.empty())
        self->quit();
    },
  };
}

}  // namespace

caf::actor spawn_node_agent(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                            caf::actor coordinator, bool remote) {
  return sys.spawn(node_agent, std::move(ctx), std::move(coordinator), remote);
}

}  // namespace matchsync
