#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/coordinator.hpp"
#include "actors/job_context.hpp"
#include "actors/messages.hpp"
#include "core/log.hpp"
#include "persistence/job_store.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync {

namespace {
caf::actor_system_config& system_config() {
  // Registered once per process; the config must outlive the system.
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    register_messages(c);
    return c;
  }();
  return cfg;
}

// A step pool large enough that every slot can have a step in flight.
int step_threads(const config& cfg) { return std::max(1, cfg.slots); }
}  // namespace

struct runtime::impl {
  impl(const config& c, std::shared_ptr<metrics> s)
    : cfg(c), stats(std::move(s)), system(system_config()),
      steps("steps", step_threads(c), c.database_url),
      control("control", 4, c.database_url),
      budget(c.upstream_rate_per_minute) {}

  config cfg;
  std::shared_ptr<metrics> stats;
  caf::actor_system system;
  blocking_pool steps;
  blocking_pool control;
  upstream::local_rate_budget budget;
  caf::actor coordinator;
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
};

runtime::runtime(const config& cfg, std::shared_ptr<metrics> stats)
  : impl_(std::make_unique<impl>(cfg, std::move(stats))),
    bus_(std::make_shared<event_bus>()) {
  auto ctx = std::make_shared<job_context>();
  ctx->cfg = cfg;
  ctx->steps = &impl_->steps;
  ctx->control = &impl_->control;
  ctx->budget = &impl_->budget;
  ctx->stats = impl_->stats.get();
  impl_->coordinator = spawn_coordinator(impl_->system, ctx, bus_);
}

runtime::~runtime() { shutdown(std::chrono::milliseconds(5000)); }

job_result runtime::trigger(std::int64_t user_id, std::int64_t account_id, job_type type) {
  return impl_->ask(caf::make_message(trigger_atom::value, user_id, account_id, type),
                    std::chrono::seconds(15));
}

job_result runtime::cancel(std::int64_t user_id, std::int64_t job_id) {
  auto timeout = std::chrono::milliseconds(impl_->cfg.cancel_timeout_ms) + std::chrono::seconds(15);
  return impl_->ask(caf::make_message(cancel_atom::value, user_id, job_id), timeout);
}

std::vector<std::int64_t> runtime::running_jobs() {
  caf::scoped_actor self{impl_->system};
  std::vector<std::int64_t> out;
  self->request(impl_->coordinator, std::chrono::seconds(5), caf::get_atom::value,
                running_atom::value)
    .receive([&](std::vector<std::int64_t>& ids) { out = std::move(ids); },
             [&](caf::error&) {});
  return out;
}

void runtime::shutdown(std::chrono::milliseconds deadline) {
  if (impl_->stopped)
    return;
  impl_->stopped = true;
  {
    caf::scoped_actor self{impl_->system};
    self->monitor(impl_->coordinator);
    self->send(impl_->coordinator, shutdown_atom::value);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(deadline) >> [&] {});
    if (!down) {
      log::warn("shutdown deadline passed; stopping jobs by force");
      self->send_exit(impl_->coordinator, caf::exit_reason::kill);
    }
  }
  bus_->close_all();
  // Let the next live node resume our jobs at once instead of after the lease.
  try {
    auto conn = db::connect(impl_->cfg.database_url);
    db::job_store(*conn).release_leases(impl_->cfg.node_id);
  } catch (const std::exception& e) {
    log::warn("could not release leases", {{"error", e.what()}});
  }
  impl_->steps.stop();
  impl_->control.stop();
}

}  // namespace matchsync
