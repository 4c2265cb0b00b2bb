// matchsync: one binary, its role picked by the first argument (SPEC §1).
// Only wiring lives here: parse the command line, load the config, dispatch.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/heap_settings.hpp"
#include "app/version.hpp"
#include "config/config.hpp"
#include "core/log.hpp"

namespace {

const char* usage =
  "usage:\n"
  "  matchsync serve [--config FILE] [--migrate] [--http-host H] [--http-port P]\n"
  "  matchsync worker --coordinator HOST:PORT [--config FILE]\n"
  "  matchsync migrate [--config FILE] [--status]\n"
  "  matchsync user add --account-id N [--name NAME] [--config FILE]\n"
  "  matchsync user token --account-id N [--config FILE]\n"
  "  matchsync user remove --account-id N --yes [--config FILE]\n"
  "  matchsync cluster ca --out DIR\n"
  "  matchsync cluster cert --ca DIR --node NAME --out DIR\n"
  "  matchsync --version\n"
  "Settings come from flags, MATCHSYNC_* environment variables and the\n"
  "config file, in that order; see matchsync(1) and the example config.\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "matchsync: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace matchsync;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "-V") {
    std::printf("matchsync %s (commit %s)\n", app::version, app::git_commit);
    return 0;
  }
  std::string command = args[0];
  app::bound_heap_retention();  // before any thread allocates
  if (command == "cluster")
    return app::run_cluster({args.begin() + 1, args.end()});
  std::size_t i = 1;
  if (command == "user") {
    if (args.size() < 2 || (args[1] != "add" && args[1] != "token" && args[1] != "remove"))
      return fail("unknown command 'user" +
                  (args.size() > 1 ? " " + args[1] : std::string()) +
                  "'; try 'matchsync user add --account-id N'");
    command = "user " + args[1];
    i = 2;
  }
  bool user_command = command.rfind("user ", 0) == 0;
  if (command != "serve" && command != "worker" && command != "migrate" && !user_command)
    return fail("unknown command '" + command + "'\n" + usage);

  std::optional<std::string> config_file;
  setting_map flags;
  app::serve_options serve;
  app::migrate_options migrate;
  app::user_add_options user;
  bool have_account = false;
  bool confirmed = false;
  for (; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= args.size())
        throw config_error(std::string(name) + ": missing value");
      return args[++i];
    };
    try {
      if (a == "--config")
        config_file = value("--config");
      else if (a == "--migrate" && command == "serve")
        serve.migrate = true;
      else if (a == "--status" && command == "migrate")
        migrate.status_only = true;
      else if (a == "--coordinator")
        flags["coordinator"] = value("--coordinator");
      else if (a == "--http-host")
        flags["http_host"] = value("--http-host");
      else if (a == "--http-port")
        flags["http_port"] = value("--http-port");
      else if (a == "--database-url")
        flags["database_url"] = value("--database-url");
      else if (a == "--slots")
        flags["slots"] = value("--slots");
      else if (a == "--node-id")
        flags["node_id"] = value("--node-id");
      else if (a == "--yes" && command == "user remove")
        confirmed = true;
      else if (a == "--account-id" && user_command) {
        auto v = value("--account-id");
        std::size_t used = 0;
        try {
          user.account_id = std::stoll(v, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != v.size() || user.account_id < 0)
          return fail("--account-id: '" + v + "' is not a non-negative whole number");
        have_account = true;
      } else if (a == "--name" && command == "user add")
        user.name = value("--name");
      else
        return fail("unknown option '" + a + "' for '" + command + "'");
    } catch (const config_error& e) {
      return fail(e.what());
    }
  }
  if (user_command && !have_account)
    return fail(command + ": --account-id N is required");

  config cfg;
  try {
    cfg = load_config(config_file, flags);
    if (cfg.database_url.empty())
      throw config_error("MATCHSYNC_DATABASE_URL: required (a libpq connection string)");
    if (command == "worker" && cfg.coordinator.empty())
      throw config_error("MATCHSYNC_COORDINATOR: required for 'worker' (or --coordinator HOST:PORT)");
  } catch (const config_error& e) {
    return fail(e.what());
  }
  log::set_json(cfg.log_format == "json");
  for (auto& name : cfg.ignored_env)
    log::warn("unknown setting ignored", {{"variable", name}});

  if (command == "serve")
    return app::run_serve(cfg, serve);
  if (command == "worker")
    return app::run_worker(cfg);
  if (command == "migrate")
    return app::run_migrate(cfg, migrate);
  if (command == "user token")
    return app::run_user_token(cfg, user.account_id);
  if (command == "user remove")
    return app::run_user_remove(cfg, user.account_id, confirmed);
  return app::run_user_add(cfg, user);
}
