#include "actors/job_actor.hpp"

#include <chrono>
#include <stdexcept>

#include "actors/messages.hpp"
#include "actors/on_pool.hpp"
#include "core/log.hpp"
#include "sync/sync_engine.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/make_client.hpp"

namespace matchsync {

namespace {

using clock = std::chrono::steady_clock;

// Progress reaches listeners a few times per second at most.
constexpr auto progress_interval = std::chrono::milliseconds(250);
// A database outage is waited out this long before the job fails.
constexpr auto outage_limit = std::chrono::seconds(60);

struct job_state {
  std::shared_ptr<upstream::rate_budget> budget;  // the client's (job_context::budget_for)
  std::shared_ptr<job_context> ctx;
  caf::actor coordinator;
  sync_job job;
  db::job_fence fence;
  int restarts = 0;
  std::shared_ptr<upstream::cancel_token> token;
  std::shared_ptr<upstream::client> client;
  std::shared_ptr<sync::sync_engine> engine;
  bool in_flight = false;   // a step runs on the pool
  bool cancelling = false;  // a cancel arrived
  bool finishing = false;   // the final write is under way
  bool stopping = false;    // shutdown: stop at the next step boundary
  std::vector<caf::response_promise> cancel_promises;
  int steps = 0;
  clock::time_point last_progress{};
  std::optional<clock::time_point> outage_since;
  int outage_retries = 0;
  std::int32_t waits = 0;  // rate-limit waits told so far
};

using job_actor_t = caf::stateful_actor<job_state>;

void launch_step(job_actor_t* self) {
  auto& st = self->state;
  st.in_flight = true;
  auto engine = st.engine;
  auto client = st.client;  // the engine's upstream: it may outlive us
  auto budget = st.budget;  // the client's: it may outlive our node's link
  auto token = st.token;
  auto stats = st.ctx->stats;
  auto step_db = st.ctx->step_db;
  auto me = caf::actor_cast<caf::actor>(self);
  // The step borrows a connection only for its reads and its commit.
  st.ctx->steps->submit([engine, client, budget, token, stats, step_db, me] {
    step_report r;
    try {
      auto res = engine->step(*step_db, *token);
      r.kind = res == sync::step_result::more            ? step_report::more
               : res == sync::step_result::done          ? step_report::done
               : res == sync::step_result::waiting_quota ? step_report::waiting
                                                         : step_report::cancelled;
      if (res == sync::step_result::waiting_quota) {
        auto left = engine->resume_at() - std::chrono::system_clock::now().time_since_epoch();
        r.resume_in_ms = std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
      }
    } catch (const domain_error& e) {
      r.kind = step_report::failed;
      r.code = e.code();
      r.message = e.what();
    } catch (const std::exception& e) {
      r.kind = step_report::failed;
      r.code = errc::internal;
      r.message = e.what();
    }
    r.job = engine->job();
    if (stats) {
      auto s = engine->take_stats();
      for (int status : s.statuses)
        stats->upstream_request(status);
      if (s.budget_wait.count() > 0 || s.rate_limited > 0)
        stats->rate_limit_wait(s.budget_wait.count() / 1000.0);
      if (s.backoff_wait.count() > 0)
        stats->backoff_wait(s.backoff_wait.count() / 1000.0);
      stats->details_repaired(s.repaired_details);
    }
    caf::anon_send(me, step_done_atom::value, std::move(r));
  });
}

void finish(job_actor_t* self, const sync_job& final_row) {
  self->state.job = final_row;
  // A cancel that arrived while the job ended gets its final row.
  for (auto& rp : self->state.cancel_promises)
    if (rp.pending())
      rp.deliver(final_row);
  self->send(self->state.coordinator, finished_atom::value, final_row);
  self->quit();
}

// Writes the cancelled state (fenced), answers every cancel and exits.
void finalize_cancel(job_actor_t* self) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  auto fence = st.fence;
  on_pool(
    self, *st.ctx->control,
    [fence](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        auto row = jobs.finish_cancelled(fence);
        return row ? row : jobs.find(fence.job_id);
      });
    },
    [self](attempt<std::optional<sync_job>> a) {
      auto& st = self->state;
      if (a.ok() && a.value) {
        for (auto& rp : st.cancel_promises)
          rp.deliver(*a.value);
        finish(self, *a.value);
        return;
      }
      // The coordinator writes the state itself when we cannot.
      auto err = make_error(a.ok() ? errc::internal : a.code, a.message);
      for (auto& rp : st.cancel_promises)
        rp.deliver(err);
      self->quit();
    });
}

// Ends the job as failed with `message` (fenced) and exits.
void fail_job(job_actor_t* self, const std::string& message) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  auto fence = st.fence;
  log::warn("job failed", {{"job", std::to_string(fence.job_id)}, {"error", message}});
  on_pool(
    self, *st.ctx->control,
    [fence, message](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        auto row = jobs.fail(fence, message);
        return row ? row : jobs.find(fence.job_id);
      });
    },
    [self](attempt<std::optional<sync_job>> a) {
      auto& st = self->state;
      // If even this write failed, the lease runs out and the job is resumed.
      finish(self, a.ok() && a.value ? *a.value : st.job);
    });
}

// After a fenced write: the job ended or moved elsewhere, or a cancel was
// persisted before its message reached us. In that last case the cancel is
// ours to finish; otherwise report the row as it is.
void report_fenced(job_actor_t* self) {
  auto& st = self->state;
  st.finishing = true;
  auto id = st.job.id;
  on_pool(
    self, *st.ctx->control,
    [id](db::session& s) {
      return s.run([&](pqxx::connection& c) { return db::job_store(c).find(id); });
    },
    [self](attempt<std::optional<sync_job>> a) {
      auto& st = self->state;
      if (a.ok() && a.value && a.value->status == job_status::running &&
          a.value->cancel_requested_at && a.value->attempt == st.fence.attempt &&
          a.value->node == st.fence.node) {
        st.cancelling = true;
        st.finishing = false;
        finalize_cancel(self);
        return;
      }
      finish(self, a.ok() && a.value ? *a.value : st.job);
    });
}

void publish_progress(job_actor_t* self, bool force) {
  auto& st = self->state;
  auto now = clock::now();
  if (!force && now - st.last_progress < progress_interval)
    return;
  st.last_progress = now;
  self->send(st.coordinator, progress_atom::value, st.job);
}

void on_step_done(job_actor_t* self, step_report& r) {
  auto& st = self->state;
  st.in_flight = false;
  auto before = st.job;
  if (r.kind != step_report::failed)
    st.job = r.job;
  if (st.ctx->stats && r.kind == step_report::more) {
    auto changed = (st.job.new_matches - before.new_matches) +
                   (st.job.updated_matches - before.updated_matches);
    if (changed > 0)
      st.ctx->stats->matches_upserted(static_cast<double>(changed));
  }
  if (st.cancelling) {
    finalize_cancel(self);
    return;
  }
  switch (r.kind) {
    case step_report::done:
      finish(self, st.job);
      return;
    case step_report::cancelled:
      self->quit();
      return;
    case step_report::more: {
      ++st.steps;
      st.outage_since.reset();
      st.outage_retries = 0;
      publish_progress(self, before.phase != st.job.phase);
      auto& cfg = st.ctx->cfg;
      if (cfg.fault_throw_at_step > 0 && st.steps == cfg.fault_throw_at_step &&
          (cfg.fault_throw_always || st.restarts == 0))
        throw std::runtime_error("fault injected at step " + std::to_string(st.steps));
      if (st.stopping) {
        self->quit();
        return;
      }
      self->send(self, step_atom::value);
      return;
    }
    case step_report::waiting: {
      // A quota wait: no step, hence no database or upstream connection,
      // until the upstream's day starts; a timer wakes us, a cancel or a
      // shutdown ends us meanwhile as any idle moment.
      st.outage_since.reset();
      st.outage_retries = 0;
      publish_progress(self, true);
      log::info("job waits for the upstream's daily quota",
                {{"job", std::to_string(st.job.id)},
                 {"resume_at", st.job.resume_at.value_or("")}});
      if (st.stopping) {
        self->quit();
        return;
      }
      // A second late, so that the wall clock has surely passed the day's
      // start; a step too early would only wait again.
      self->delayed_send(self, std::chrono::milliseconds(r.resume_in_ms + 1000),
                         step_atom::value);
      return;
    }
    case step_report::failed:
      break;
  }
  switch (r.code) {
    case errc::upstream_failed:
      fail_job(self, r.message);
      return;
    case errc::fenced:
      report_fenced(self);
      return;
    case errc::storage_unavailable: {
      auto now = clock::now();
      if (!st.outage_since)
        st.outage_since = now;
      if (now - *st.outage_since > outage_limit) {
        fail_job(self, "database unavailable for too long: " + r.message);
        return;
      }
      auto delay = std::chrono::milliseconds(
        std::min(2000, 100 << std::min(st.outage_retries, 5)));
      ++st.outage_retries;
      if (st.stopping)
        self->quit();
      else
        self->delayed_send(self, delay, step_atom::value);
      return;
    }
    default:
      // A bug or an unexpected error: crash, so the supervisor restarts us
      // from the last committed step.
      throw std::runtime_error(r.message);
  }
}

caf::behavior job_actor(job_actor_t* self, caf::actor coordinator,
                        std::shared_ptr<job_context> ctx, sync_job job,
                        db::job_fence fence, int restarts) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.coordinator = std::move(coordinator);
  st.job = job;
  st.fence = fence;
  st.restarts = restarts;
  st.token = std::make_shared<upstream::cancel_token>();
  st.budget = st.ctx->budget_for(job);
  st.client = upstream::make_client(st.ctx->cfg, *st.budget);
  sync::engine_settings settings;
  settings.page_size = st.ctx->cfg.upstream_page_size;
  settings.lease_s = st.ctx->cfg.job_lease_s;
  st.engine = std::make_shared<sync::sync_engine>(job, fence, *st.client, settings);
  // Rate-limit waits are news for the live panel: told on the step's thread,
  // counted here. Weak, so the client held in our state keeps no cycle.
  caf::weak_actor_ptr weak_self = self->ctrl();
  st.client->observe_waits([weak_self](const upstream::wait_notice& n) {
    if (auto strong = weak_self.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), job_wait_atom::value,
                     std::string(upstream::to_string(n.why)),
                     static_cast<std::int64_t>(n.duration.count()));
  });
  // A step in flight keeps the engine and the client alive itself.
  auto token = st.token;
  self->attach_functor([token](const caf::error&) {
    // Whatever ends us also ends our in-flight request at once.
    token->cancel();
  });
  // Keep the message of whatever escapes a handler: it becomes the exit
  // reason the coordinator sees, and the job's error if restarts run out.
  self->set_exception_handler([](std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return make_error(errc::internal, e.what());
    } catch (...) {
      return make_error(errc::internal, "unknown exception");
    }
  });
  self->send(self, step_atom::value);
  return {
    [=](step_atom) {
      auto& s = self->state;
      if (!s.in_flight && !s.cancelling && !s.finishing && !s.stopping)
        launch_step(self);
    },
    [=](step_done_atom, step_report& r) { on_step_done(self, r); },
    [=](job_wait_atom, std::string& reason, std::int64_t wait_ms) {
      auto& s = self->state;
      ++s.waits;
      self->send(s.coordinator, job_wait_atom::value, s.job.user_id, s.job.id,
                 std::move(reason), wait_ms, s.waits);
    },
    [=](continuation& c) { c.fn(); },
    [=](cancel_atom) -> caf::response_promise {
      auto& s = self->state;
      auto rp = self->make_response_promise();
      s.cancel_promises.push_back(rp);
      if (!s.cancelling) {
        s.cancelling = true;
        s.token->cancel();
        // No need to wait for a step in flight (it may be queued for a
        // connection): the cancel is persisted, so the database refuses
        // its commit, and the final row is the last committed step's.
        if (!s.finishing)
          finalize_cancel(self);
      }
      return rp;
    },
    [=](shutdown_atom) {
      auto& s = self->state;
      s.stopping = true;
      if (!s.in_flight && !s.finishing)
        self->quit();
    },
  };
}

}  // namespace

caf::actor spawn_job_actor(caf::event_based_actor* coordinator,
                           std::shared_ptr<job_context> ctx, sync_job job,
                           db::job_fence fence, int restarts) {
  return coordinator->spawn<caf::monitored>(
    job_actor, caf::actor_cast<caf::actor>(coordinator), std::move(ctx),
    std::move(job), std::move(fence), restarts);
}

}  // namespace matchsync
