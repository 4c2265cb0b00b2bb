#include "actors/runtime.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/cluster_transport.hpp"
#include "actors/coordinator.hpp"
#include "actors/gatekeeper.hpp"
#include "actors/job_context.hpp"
#include "actors/job_pruner.hpp"
#include "actors/scheduler.hpp"
#include "actors/messages.hpp"
#include "actors/node_agent.hpp"
#include "core/host_name.hpp"
#include "core/log.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/job_store.hpp"
#include "core/schedule_rules.hpp"
#include "sync/shared_daily_quota.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync {

namespace {
db::pool_options step_db_options(const config& cfg) {
  db::pool_options o;
  o.url = cfg.database_url;
  o.max_size = cfg.db_pool_size;
  o.application_name = "matchsync-steps";
  return o;
}

// With workers, slots travel over the network and fire on other machines'
// timers: keep starts 4% (at least 20 ms) further apart than the rate needs,
// so that jitter never packs two starts into one interval.
upstream::local_rate_budget::clock::duration cluster_spacing_guard(const config& c) {
  if (c.cluster_secret.empty() || c.upstream_rate_per_minute == 0)
    return upstream::local_rate_budget::clock::duration::zero();
  auto interval = std::chrono::milliseconds(60000 / c.upstream_rate_per_minute);
  return std::max<std::chrono::milliseconds>(std::chrono::milliseconds(20), interval / 25);
}
}  // namespace

struct runtime::impl {
  impl(const config& c, std::shared_ptr<metrics> s)
    : cfg(c), stats(std::move(s)), system(cluster_actor_config(c)),
      step_db(step_db_options(c)),
      steps("steps", step_threads(c.slots)),
      control("control", 4, c.database_url),
      budget(std::make_shared<upstream::local_rate_budget>(
        c.upstream_rate_per_minute, cluster_spacing_guard(c))) {}

  config cfg;
  std::shared_ptr<metrics> stats;
  caf::actor_system system;
  db::connection_pool step_db;  // outlives the step threads that borrow from it
  blocking_pool steps;
  blocking_pool control;  // sessions of its own: never queues behind steps
  std::shared_ptr<upstream::local_rate_budget> budget;
  caf::actor coordinator;
  caf::actor gatekeeper;  // published for workers; the coordinator never is
  caf::actor agent;
  caf::actor pruner;     // job retention (actors/job_pruner)
  caf::actor scheduler;  // automatic syncs (actors/scheduler)
  bool stopped = false;

  job_result ask(const caf::message& msg, std::chrono::milliseconds timeout) {
    caf::scoped_actor self{system};
    job_result out;
    self->request(coordinator, timeout, msg)
      .receive([&](sync_job& job) { out.job = std::move(job); },
               [&](caf::error& err) {
                 out.code = code_of(err);
                 out.message = out.code == errc::timeout
                                 ? "the coordinator did not answer in time"
                                 : message_of(err);
               });
    return out;
  }

  // Waits until `who` is gone, at most `deadline`; false at the deadline.
  bool wait_down(const caf::actor& who, std::chrono::milliseconds deadline) {
    caf::scoped_actor self{system};
    self->monitor(who);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; }, caf::after(deadline) >> [] {});
    return down;
  }
};

runtime::runtime(const config& cfg, std::shared_ptr<metrics> stats)
  : impl_(std::make_unique<impl>(cfg, std::move(stats))),
    bus_(std::make_shared<event_bus>()) {
  // The day's quota is counted in the database, by every node alike.
  impl_->budget->set_daily(std::make_shared<sync::shared_daily_quota>(
    impl_->step_db, cfg.upstream_daily_limit, cfg.upstream_day_start_minute));
  auto scheduled = std::make_shared<upstream::shared_slots_budget>(impl_->budget);
  scheduled->set_daily(std::make_shared<sync::shared_daily_quota>(
    impl_->step_db, schedule::scheduled_limit(cfg.upstream_daily_limit, cfg.schedule_quota_share),
    cfg.upstream_day_start_minute));
  auto ctx = std::make_shared<job_context>();
  ctx->cfg = cfg;
  ctx->steps = &impl_->steps;
  ctx->step_db = &impl_->step_db;
  ctx->control = &impl_->control;
  ctx->budget = impl_->budget;
  ctx->scheduled_budget = scheduled;
  ctx->stats = impl_->stats.get();
  // The jobs gauge of /metrics: counted once here, before the coordinator
  // exists (no change can slip between the count and its first one), then
  // kept by the coordinator and the pruner. serve has just checked the
  // schema, so a database that fails this count fails the start.
  if (impl_->stats)
    impl_->step_db.read([&](pqxx::connection& c) {
      auto census = db::job_store(c).count_jobs();
      impl_->stats->jobs().load(census.totals, census.active);
    });
  impl_->coordinator = spawn_coordinator(impl_->system, ctx, bus_, impl_->budget);
  impl_->agent = spawn_node_agent(impl_->system, ctx, impl_->coordinator, false);
  retention::policy keep;
  keep.days = cfg.job_retention_days;
  // The first pass a minute after start, not during it; then one a day.
  impl_->pruner = spawn_job_pruner(impl_->system, keep, impl_->control,
                                   impl_->stats.get(), std::chrono::minutes(1));
  // A pass a second: one indexed query when nothing is due.
  impl_->scheduler = spawn_scheduler(impl_->system, cfg, impl_->control, impl_->coordinator,
                                     std::chrono::seconds(1));
  node_info me;
  me.node = cfg.node_id;
  me.host = host_name();
  me.slots = cfg.slots;
  me.local = true;  // the in-process path: no remote join is ever local
  caf::scoped_actor self{impl_->system};
  self->request(impl_->coordinator, std::chrono::seconds(10), join_atom::value, me,
                impl_->agent)
    .receive([](caf::ok_atom) {},
             [](caf::error& err) {
               throw std::runtime_error("local node could not join: " + message_of(err));
             });
  caf::anon_send(impl_->agent, join_atom::value);
}

runtime::~runtime() { shutdown(std::chrono::milliseconds(5000)); }

int runtime::listen_cluster() {
  if (impl_->cfg.cluster_secret.empty())
    return 0;
  impl_->gatekeeper =
    spawn_gatekeeper(impl_->system, impl_->coordinator, impl_->cfg.cluster_secret,
                     std::chrono::milliseconds(impl_->cfg.cancel_timeout_ms));
  return publish_cluster(impl_->system, impl_->gatekeeper, impl_->cfg);
}

job_result runtime::trigger(std::int64_t user_id, std::int64_t account_id, job_type type) {
  // A scheduled job that gives way is cancelled first: as long as a cancel.
  auto timeout = std::chrono::milliseconds(impl_->cfg.cancel_timeout_ms) +
                 std::chrono::seconds(30);
  return impl_->ask(caf::make_message(trigger_atom::value, user_id, account_id, type),
                    timeout);
}

job_result runtime::cancel(std::int64_t user_id, std::int64_t job_id) {
  auto timeout = std::chrono::milliseconds(impl_->cfg.cancel_timeout_ms) + std::chrono::seconds(15);
  return impl_->ask(caf::make_message(cancel_atom::value, user_id, job_id), timeout);
}

std::int64_t runtime::run_schedules() {
  caf::scoped_actor self{impl_->system};
  std::int64_t started = -1;
  self->request(impl_->scheduler, std::chrono::seconds(10), run_atom::value)
    .receive([&](std::int64_t n) { started = n; }, [&](caf::error&) {});
  return started;
}

std::vector<std::int64_t> runtime::running_jobs() {
  caf::scoped_actor self{impl_->system};
  std::vector<std::int64_t> out;
  self->request(impl_->agent, std::chrono::seconds(5), caf::get_atom::value, running_atom::value)
    .receive([&](std::vector<std::int64_t>& ids) { out = std::move(ids); },
             [&](caf::error&) {});
  return out;
}

std::vector<worker_view> runtime::workers() {
  caf::scoped_actor self{impl_->system};
  std::vector<worker_view> out;
  self->request(impl_->coordinator, std::chrono::seconds(5), caf::get_atom::value,
                workers_atom::value)
    .receive(
      [&](std::vector<node_info>& nodes) {
        for (auto& n : nodes)
          out.push_back({n.node, n.host, n.slots, n.running_jobs, n.connected_at,
                         n.last_seen, n.local});
      },
      [&](caf::error&) {});
  return out;
}

void runtime::shutdown(std::chrono::milliseconds deadline) {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  // No new scheduled job while the node stops; the next serve runs what is due.
  caf::anon_send(impl_->scheduler, shutdown_atom::value);
  caf::anon_send(impl_->agent, shutdown_atom::value);
  if (!impl_->wait_down(impl_->agent, deadline)) {
    log::warn("shutdown deadline passed; stopping jobs by force");
    caf::anon_send_exit(impl_->agent, caf::exit_reason::kill);
  }
  caf::anon_send(impl_->pruner, shutdown_atom::value);
  if (impl_->gatekeeper)
    caf::anon_send_exit(impl_->gatekeeper, caf::exit_reason::user_shutdown);
  caf::anon_send(impl_->coordinator, shutdown_atom::value);
  impl_->wait_down(impl_->coordinator, std::chrono::seconds(2));
  bus_->close_all();
  // The agent handed its runs over as they stopped (the next live node
  // resumes them at once, no attempt counted); runs it could not stop by
  // the deadline keep their lease until it runs out.
  impl_->steps.stop();
  impl_->control.stop();
}

}  // namespace matchsync
