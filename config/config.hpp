// The service's settings: one struct, loaded once at start from defaults,
// a config file, MATCHSYNC_* environment variables and flags, in that order.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace matchsync {

/// Every setting of SPEC §1, plus a few of our own (documented in
/// config/matchsync.example.conf).
struct config {
  std::string database_url;
  std::string http_host = "127.0.0.1";
  int http_port = 8080;
  std::string auth = "token";  ///< "token" or "none"
  std::optional<std::int64_t> default_account_id;
  std::string upstream_url = "https://api.opendota.com";
  std::string upstream_api_key;
  int upstream_rate_per_minute = 60;
  /// Requests per upstream day for the whole cluster; 0 = none. The loader
  /// sets SPEC's default (2000 without an API key, none with one) when the
  /// setting is not given; a config built in code has none.
  int upstream_daily_limit = 0;
  /// Minutes after 00:00 UTC at which the upstream's day starts.
  int upstream_day_start_minute = 0;
  bool upstream_daily_limit_set = false;  ///< given by file, env or flag
  int upstream_page_size = 100;
  int upstream_timeout_ms = 30000;
  int upstream_max_retries = 5;
  /// First retry delay; doubles up to 60 s (SPEC §2: 1 s).
  int upstream_backoff_base_ms = 1000;
  int slots = 16;
  /// Database connections the job steps share (their reads and commits).
  int db_pool_size = 16;
  std::string cluster_host = "127.0.0.1";
  int cluster_port = 4242;
  std::string cluster_secret;
  /// PEM files for mutual TLS between nodes: all three or none.
  std::string cluster_ca;
  std::string cluster_cert;
  std::string cluster_key;
  /// "on", "off" (a plain link beyond loopback, allowed with a warning), or
  /// "" (unset: on exactly when the three files are set).
  std::string cluster_tls;
  std::string coordinator;
  std::string node_id;
  int job_lease_s = 15;
  /// A node silent this long is dropped and its jobs resumed elsewhere;
  /// 0 = the lease (see node_timeout()).
  int node_timeout_s = 0;
  int cancel_timeout_ms = 2000;
  int job_max_restarts = 3;
  int job_max_attempts = 3;
  /// Terminal jobs older than this many days are deleted; 0 = keep for ever.
  int job_retention_days = 90;
  /// Percent of the upstream's daily quota that scheduled syncs may use
  /// (SPEC §1); syncs users start may use all of it.
  int schedule_quota_share = 80;
  std::string log_format = "text";
  int http_threads = 32;
  int sse_max_streams = 16;
  std::string static_dir;  ///< development only: serve the dashboard from this folder; empty = the files embedded at build time
  /// Test-only fault switch: the job actor throws at this step number (0 = off).
  int fault_throw_at_step = 0;
  /// Test-only: throw at every attempt rather than once.
  bool fault_throw_always = false;
  /// MATCHSYNC_* variables that name no setting (a typo, or another tool's
  /// variable): ignored, and logged at start by the caller.
  std::vector<std::string> ignored_env;
};

/// How long a node may stay silent before it is dropped (SPEC §1: default
/// the lease).
inline int node_timeout_s(const config& c) {
  return c.node_timeout_s > 0 ? c.node_timeout_s : c.job_lease_s;
}

/// A bad or unknown setting; what() is one line naming the key.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Settings given as key = value (file keys are the env names lower-cased
/// without the MATCHSYNC_ prefix, e.g. `http_port`).
using setting_map = std::map<std::string, std::string>;

/// Parses a config file's text: `key = value` lines, `#` comments.
setting_map parse_config_text(const std::string& text);

/// Collects MATCHSYNC_* variables from an environment block (as `environ`).
setting_map settings_from_environment(char** envp);

/// Applies defaults < file < env < flags and validates every value.
/// Throws config_error naming the offending key.
config load_config(const setting_map& file, const setting_map& env,
                   const setting_map& flags);

/// True when nodes talk over mutual TLS: the three cluster files are set
/// (load_config refuses a half set and MATCHSYNC_CLUSTER_TLS=off with them).
bool cluster_tls_on(const config& c);

/// True for an address that only this machine can reach (127.0.0.0/8, ::1,
/// localhost). "" and 0.0.0.0 mean every interface: not loopback.
bool is_loopback_host(const std::string& host);

/// Reads the file (if any), the process environment and the flags.
config load_config(const std::optional<std::string>& file_path,
                   const setting_map& flags);

}  // namespace matchsync
