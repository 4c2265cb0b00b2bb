#include "actors/worker_node.hpp"

#include <unistd.h>

#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/cluster_budget.hpp"
#include "sync/shared_daily_quota.hpp"
#include "actors/job_context.hpp"
#include "actors/messages.hpp"
#include "actors/node_agent.hpp"
#include "core/log.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/job_store.hpp"

namespace matchsync {

namespace {

std::string host_name() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0)
    return "localhost";
  return host;
}

// Waits until `who` is down or `stop` is set; true when it went down.
bool wait_down_or_stop(caf::actor_system& sys, const caf::actor& who,
                       const std::atomic<bool>& stop) {
  caf::scoped_actor self{sys};
  self->monitor(who);
  bool down = false;
  while (!down && !stop)
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(std::chrono::milliseconds(100)) >> [] {});
  return down;
}

}  // namespace

int run_worker_node(const config& cfg, const std::atomic<bool>& stop) {
  auto colon = cfg.coordinator.rfind(':');
  auto host = cfg.coordinator.substr(0, colon);
  auto port = static_cast<std::uint16_t>(std::stoi(cfg.coordinator.substr(colon + 1)));
  caf::actor_system system(actor_config());
  db::pool_options step_db_options;
  step_db_options.url = cfg.database_url;
  step_db_options.max_size = cfg.db_pool_size;
  step_db_options.application_name = "matchsync-steps";
  db::connection_pool step_db(step_db_options);
  blocking_pool steps("steps", step_threads(cfg.slots));
  blocking_pool control("control", 2, cfg.database_url);
  bool joined_once = false;
  int failures = 0;

  // The day's quota lives in the database, shared with every node.
  auto daily = std::make_shared<sync::shared_daily_quota>(step_db, cfg.upstream_daily_limit,
                                                          cfg.upstream_day_start_minute);
  while (!stop) {
    auto coordinator = system.middleman().remote_actor(host, port);
    if (!coordinator) {
      ++failures;
      if (!joined_once && failures >= 5) {
        std::cerr << "matchsync: cannot reach the coordinator at " << cfg.coordinator
                  << ": " << system.render(coordinator.error()) << std::endl;
        return 2;
      }
      auto delay = std::chrono::milliseconds(200 << std::min(failures, 5));
      log::warn("coordinator unreachable, retrying",
                {{"coordinator", cfg.coordinator},
                 {"in_ms", std::to_string(delay.count())}});
      for (auto end = std::chrono::steady_clock::now() + delay;
           !stop && std::chrono::steady_clock::now() < end;)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    failures = 0;
    // Ends with this link to the coordinator, except for the steps still in
    // flight: each holds its own share until it returns.
    auto budget = std::make_shared<leased_rate_budget>(system, *coordinator);
    budget->set_daily(daily);
    auto ctx = std::make_shared<job_context>();
    ctx->cfg = cfg;
    ctx->steps = &steps;
    ctx->step_db = &step_db;
    ctx->control = &control;
    ctx->budget = budget;
    auto agent = spawn_node_agent(system, ctx, *coordinator);
    node_info me;
    me.node = cfg.node_id;
    me.host = host_name();
    me.slots = cfg.slots;
    std::string refused;
    {
      caf::scoped_actor self{system};
      self->request(*coordinator, std::chrono::seconds(10), join_atom::value,
                    cfg.cluster_secret, me, agent)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) { refused = message_of(err); });
    }
    if (!refused.empty()) {
      caf::anon_send_exit(agent, caf::exit_reason::kill);
      std::cerr << "matchsync: the coordinator at " << cfg.coordinator
                << " refused this worker: " << refused << std::endl;
      return 2;
    }
    joined_once = true;
    log::info("joined the coordinator", {{"coordinator", cfg.coordinator},
                                         {"node", cfg.node_id},
                                         {"slots", std::to_string(cfg.slots)}});
    bool lost = wait_down_or_stop(system, *coordinator, stop);
    // Either way our jobs stop at a step boundary and stay resumable.
    caf::anon_send(agent, shutdown_atom::value);
    {
      caf::scoped_actor self{system};
      self->monitor(agent);
      self->receive([](caf::down_msg&) {},
                    caf::after(std::chrono::milliseconds(cfg.cancel_timeout_ms + 3000)) >>
                      [&] { caf::anon_send_exit(agent, caf::exit_reason::kill); });
    }
    if (lost)
      log::warn("lost the coordinator; joining again", {{"coordinator", cfg.coordinator}});
  }
  try {
    auto conn = db::connect(cfg.database_url);
    db::job_store(*conn).release_leases(cfg.node_id);
  } catch (const std::exception& e) {
    log::warn("could not release leases", {{"error", e.what()}});
  }
  steps.stop();
  control.stop();
  return 0;
}

}  // namespace matchsync
