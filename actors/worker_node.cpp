#include "actors/worker_node.hpp"

#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/blocking_pool.hpp"
#include "actors/cluster_budget.hpp"
#include "actors/cluster_transport.hpp"
#include "actors/cluster_join.hpp"
#include "actors/job_context.hpp"
#include "actors/messages.hpp"
#include "actors/node_agent.hpp"
#include "actors/uplink.hpp"
#include "core/host_name.hpp"
#include "core/log.hpp"
#include "core/schedule_rules.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/job_store.hpp"
#include "sync/shared_daily_quota.hpp"

namespace matchsync {

namespace {

// Waits until our session or our agent is down (the agent leaves by itself
// when the coordinator dropped us or stopped answering), or `stop` is set;
// true when the link ended.
bool wait_link_end_or_stop(caf::actor_system& sys, const caf::actor& session,
                           const caf::actor& agent, const std::atomic<bool>& stop) {
  caf::scoped_actor self{sys};
  self->monitor(session);
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
  caf::actor_system system(cluster_actor_config(cfg));
  db::pool_options step_db_options;
  step_db_options.url = cfg.database_url;
  step_db_options.max_size = cfg.db_pool_size;
  step_db_options.application_name = "matchsync-steps";
  db::connection_pool step_db(step_db_options);
  blocking_pool steps("steps", step_threads(cfg.slots));
  blocking_pool control("control", 2, cfg.database_url);
  bool joined_once = false;
  int failures = 0;

  // After a failed attempt to reach or join the coordinator: false when the
  // worker gives up (never joined, 5 failures in a row), else waits.
  auto back_off = [&](const caf::error& why) {
    ++failures;
    if (!joined_once && failures >= 5) {
      std::cerr << "matchsync: cannot reach the coordinator at " << cfg.coordinator << ": "
                << system.render(why) << std::endl;
      return false;
    }
    auto delay = std::chrono::milliseconds(200 << std::min(failures, 5));
    log::warn("coordinator unreachable, retrying",
              {{"coordinator", cfg.coordinator}, {"in_ms", std::to_string(delay.count())}});
    for (auto end = std::chrono::steady_clock::now() + delay;
         !stop && std::chrono::steady_clock::now() < end;)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return true;
  };

  // The day's quota lives in the database, shared with every node.
  auto daily = std::make_shared<sync::shared_daily_quota>(step_db, cfg.upstream_daily_limit,
                                                          cfg.upstream_day_start_minute);
  auto scheduled_daily = std::make_shared<sync::shared_daily_quota>(
    step_db, schedule::scheduled_limit(cfg.upstream_daily_limit, cfg.schedule_quota_share),
    cfg.upstream_day_start_minute);
  while (!stop) {
    auto coordinator = connect_cluster(system, host, port, cfg);
    if (!coordinator) {
      if (!back_off(coordinator.error()))
        return 2;
      continue;
    }
    // What `coordinator` answers is the gatekeeper: the agent and the budget
    // talk to the node session it hands out, through the uplink.
    auto up = spawn_uplink(system);
    // Ends with this link to the coordinator, except for the steps still in
    // flight: each holds its own share until it returns.
    auto budget = std::make_shared<leased_rate_budget>(system, up);
    budget->set_daily(daily);
    auto scheduled = std::make_shared<upstream::shared_slots_budget>(budget);
    scheduled->set_daily(scheduled_daily);
    auto ctx = std::make_shared<job_context>();
    ctx->cfg = cfg;
    ctx->steps = &steps;
    ctx->step_db = &step_db;
    ctx->control = &control;
    ctx->budget = budget;
    ctx->scheduled_budget = scheduled;
    auto agent = spawn_node_agent(system, ctx, up, true);
    node_info me;
    me.node = cfg.node_id;
    me.host = host_name();
    me.slots = cfg.slots;
    auto link = join_cluster(system, *coordinator, cfg.cluster_secret, me, agent);
    if (!link && joined_once && code_of(link.error()) == errc::conflict) {
      // Our own earlier membership, which only our side saw end: the
      // coordinator drops it after the node timeout. Try again until then.
      caf::anon_send_exit(agent, caf::exit_reason::kill);
      caf::anon_send_exit(up, caf::exit_reason::kill);
      ++failures;
      log::warn("the coordinator still lists this node; joining again shortly",
                {{"coordinator", cfg.coordinator}});
      auto delay = std::chrono::milliseconds(250);
      for (auto end = std::chrono::steady_clock::now() + delay;
           !stop && std::chrono::steady_clock::now() < end;)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (!link) {
      caf::anon_send_exit(agent, caf::exit_reason::kill);
      caf::anon_send_exit(up, caf::exit_reason::kill);
      auto code = code_of(link.error());
      if (code != errc::invalid_input && code != errc::conflict) {
        // The link broke during the join (a coordinator stopping, a cut):
        // not a refusal, so join again like after any lost link.
        if (!back_off(link.error()))
          return 2;
        continue;
      }
      std::cerr << "matchsync: the coordinator at " << cfg.coordinator
                << " refused this worker: " << message_of(link.error()) << std::endl;
      return 2;
    }
    failures = 0;
    caf::anon_send(up, join_atom::value, link->session, link->token);
    joined_once = true;
    caf::anon_send(agent, join_atom::value);
    log::info("joined the coordinator", {{"coordinator", cfg.coordinator},
                                         {"node", cfg.node_id},
                                         {"slots", std::to_string(cfg.slots)}});
    bool lost = wait_link_end_or_stop(system, link->session, agent, stop);
    // Either way our jobs stop at a step boundary and stay resumable.
    caf::anon_send(agent, shutdown_atom::value);
    {
      caf::scoped_actor self{system};
      self->monitor(agent);
      self->receive([](caf::down_msg&) {},
                    caf::after(std::chrono::milliseconds(cfg.cancel_timeout_ms + 3000)) >>
                      [&] { caf::anon_send_exit(agent, caf::exit_reason::kill); });
    }
    // The uplink ends with the session: after the agent's last `released`.
    if (lost)
      log::warn("lost the coordinator; joining again", {{"coordinator", cfg.coordinator}});
  }
  // Each stopped run was handed over by the agent as it ended.
  steps.stop();
  control.stop();
  return 0;
}

}  // namespace matchsync
