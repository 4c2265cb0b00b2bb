// The roles of the one binary (SPEC §1). Each returns the process exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace matchsync::app {

struct serve_options {
  bool migrate = false;
};

struct migrate_options {
  bool status_only = false;
};

struct user_add_options {
  std::int64_t account_id = 0;
  std::optional<std::string> name;
};

int run_serve(const config& cfg, const serve_options& opts);
int run_worker(const config& cfg);
int run_migrate(const config& cfg, const migrate_options& opts);
int run_user_add(const config& cfg, const user_add_options& opts);
/// `cluster ca|cert ...` (the arguments after `cluster`); needs no config.
int run_cluster(const std::vector<std::string>& args);
/// `user token`: a new token for the account (printed alone on the last
/// line), the old one revoked.
int run_user_token(const config& cfg, std::int64_t account_id);
/// `user remove`: the user, their tokens, jobs and matches; `confirmed`
/// is --yes.
int run_user_remove(const config& cfg, std::int64_t account_id, bool confirmed);

}  // namespace matchsync::app
