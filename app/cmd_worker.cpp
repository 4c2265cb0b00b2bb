// `matchsync worker`: a node that joins the coordinator over CAF.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "actors/cluster_transport.hpp"
#include "actors/worker_node.hpp"
#include "app/commands.hpp"
#include "app/service_notify.hpp"
#include "app/wait_for_database.hpp"
#include "core/errors.hpp"
#include "core/log.hpp"
#include "persistence/database.hpp"
#include "persistence/migrator.hpp"

namespace matchsync::app {

int run_worker(const config& cfg) {
  try {
    check_cluster_link(cfg, cfg.coordinator.substr(0, cfg.coordinator.rfind(':')));
  } catch (const config_error& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 2;
  }
  // As for serve (SPEC §6): a new binary against an old schema stops here
  // with one line naming `matchsync migrate`, before it takes any job.
  try {
    // A database not up yet is waited for (app/wait_for_database.hpp); the
    // stop signals are not blocked yet here, so one ends the wait as usual.
    auto conn = connect_waiting(cfg.database_url, database_patience);
    if (!conn)
      return 0;
    db::migrator().require_current(*conn);
  } catch (const domain_error& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 1;
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::atomic<bool> stop{false};
  std::thread([&stop, stop_signals]() mutable {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log::info("stopping", {{"signal", std::to_string(sig)}});
    notify_stopping();
    stop = true;
    sigwait(&stop_signals, &sig);
    std::_Exit(1);  // a second signal forces the exit
  }).detach();
  // Ready once the schema is known good: joining the coordinator retries
  // with backoff (and gives up with exit 2 if the first join never
  // succeeds), which systemd's Restart= handles better than a start timeout.
  notify_ready();
  return run_worker_node(cfg, stop);
}

}  // namespace matchsync::app
