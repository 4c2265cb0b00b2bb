// `matchsync serve`: refuses a stale schema, then runs the HTTP API until
// SIGTERM or SIGINT.
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "actors/cluster_transport.hpp"
#include "actors/runtime.hpp"
#include "app/commands.hpp"
#include "app/service_notify.hpp"
#include "app/wait_for_database.hpp"
#include "metrics/metrics.hpp"
#include "core/errors.hpp"
#include "core/log.hpp"
#include "http/server.hpp"
#include "persistence/database.hpp"
#include "persistence/migrator.hpp"
#include "persistence/readiness_probe.hpp"
#include "persistence/user_store.hpp"

namespace matchsync::app {

int run_serve(const config& cfg, const serve_options& opts) {
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Without a secret nothing listens for workers (runtime::listen_cluster).
  try {
    if (!cfg.cluster_secret.empty())
      check_cluster_link(cfg, cfg.cluster_host);
  } catch (const config_error& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 2;
  }

  try {
    // A database not up yet is waited for (app/wait_for_database.hpp).
    auto conn = connect_waiting(cfg.database_url, database_patience);
    if (!conn) {
      log::info("stopping before start: a stop signal came while waiting for the database");
      return 0;
    }
    db::migrator m;
    if (opts.migrate) {
      for (auto& name : m.apply(*conn))
        log::info("applied migration", {{"name", name}});
    } else {
      m.require_current(*conn);
    }
    if (cfg.auth == "none")
      db::user_store(*conn).ensure(*cfg.default_account_id);
  } catch (const domain_error& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 1;
  }

  auto stats = std::make_shared<metrics>();
  runtime jobs(cfg, stats);
  try {
    if (int cluster_port = jobs.listen_cluster())
      log::info("cluster listening", {{"host", cfg.cluster_host},
                                      {"port", std::to_string(cluster_port)},
                                      {"tls", cluster_tls_on(cfg) ? "on" : "off"}});
  } catch (const std::exception& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 1;
  }
  auto probe = std::make_shared<db::readiness_probe>(cfg.database_url);
  http::services svc;
  svc.readiness = [probe] { return (*probe)(); };
  svc.jobs = &jobs;
  svc.stats = stats;
  http::api_server server(cfg, svc);
  int port = 0;
  try {
    port = server.bind();
  } catch (const std::exception& e) {
    std::cerr << "matchsync: " << e.what() << std::endl;
    return 1;
  }
  log::info("listening", {{"url", "http://" + cfg.http_host + ":" +
                                     std::to_string(port) + "/"},
                          {"node", cfg.node_id}});
  std::thread http_thread([&] { server.run(); });
  notify_ready();  // bound and accepting: a Type=notify unit is now started

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log::info("stopping", {{"signal", std::to_string(sig)}});
  notify_stopping();
  // A second signal during the graceful stop forces the exit.
  std::thread([stop_signals]() mutable {
    int again = 0;
    sigwait(&stop_signals, &again);
    log::warn("second signal: exiting now");
    std::_Exit(1);
  }).detach();
  server.stop();
  http_thread.join();
  jobs.shutdown(std::chrono::milliseconds(cfg.cancel_timeout_ms + 3000));
  log::info("stopped");
  return 0;
}

}  // namespace matchsync::app
