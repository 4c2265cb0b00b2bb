#include "actors/worker_node.hpp"

#include <unistd.h>

#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/cluster_budget.hpp"
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

// Waits until the coordinator or our agent is down (the agent leaves by
// itself when the coordinator dropped us or stopped answering), or `stop` is
// set; true when the link ended.
bool wait_link_end_or_stop(caf::actor_system& sys, const caf::actor& coordinator,
                           const caf::actor& agent, const std::atomic<bool>& stop) {
  caf::scoped_actor self{sys};
  self->monitor(coordinator);
  self->monitor(agent);
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
  configure_liveness(actor_config(), std::chrono::seconds(node_timeout_s(cfg)));
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
    errc refusal = errc::none;
    {
      caf::scoped_actor self{system};
      self->request(*coordinator, std::chrono::seconds(10), join_atom::value,
                    cfg.cluster_secret, me, agent)
        .receive([](caf::ok_atom) {},
                 [&](caf::error& err) {
                   refused = message_of(err);
                   refusal = code_of(err);
                 });
    }
    if (!refused.empty() && joined_once && refusal == errc::conflict) {
      // Our own earlier membership, which only our side saw end: the
      // coordinator drops it after the node timeout. Try again until then.
      caf::anon_send_exit(agent, caf::exit_reason::kill);
      ++failures;
      log::warn("the coordinator still lists this node; joining again shortly",
                {{"coordinator", cfg.coordinator}});
      auto delay = std::chrono::milliseconds(250);
      for (auto end = std::chrono::steady_clock::now() + delay;
           !stop && std::chrono::steady_clock::now() < end;)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!refused.empty()) {
      caf::anon_send_exit(agent, caf::exit_reason::kill);
      std::cerr << "matchsync: the coordinator at " << cfg.coordinator
                << " refused this worker: " << refused << std::endl;
      return 2;
    }
    joined_once = true;
    caf::anon_send(agent, join_atom::value);
    log::info("joined the coordinator", {{"coordinator", cfg.coordinator},
                                         {"node", cfg.node_id},
                                         {"slots", std::to_string(cfg.slots)}});
    bool lost = wait_link_end_or_stop(system, *coordinator, agent, stop);
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
  // Each stopped run was handed over by the agent as it ended.
  steps.stop();
  control.stop();
  return 0;
}

}  // namespace matchsync
