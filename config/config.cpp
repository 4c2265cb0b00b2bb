#include "config/config.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <functional>
#include <sstream>

extern char** environ;

namespace matchsync {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return "";
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string env_name(const std::string& key) {
  std::string out = "MATCHSYNC_";
  for (char c : key)
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

long long parse_int(const std::string& key, const std::string& value,
                    long long min, long long max) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != value.size())
    throw config_error(key + ": '" + value + "' is not a whole number");
  if (v < min || v > max)
    throw config_error(key + ": " + value + " is out of range (" +
                       std::to_string(min) + ".." + std::to_string(max) + ")");
  return v;
}

bool parse_bool(const std::string& key, const std::string& value) {
  if (value == "1" || value == "true" || value == "yes" || value == "on")
    return true;
  if (value == "0" || value == "false" || value == "no" || value == "off")
    return false;
  throw config_error(key + ": '" + value + "' is not true or false");
}

// http(s)://host[:port][/path] without spaces; "demo" is handled by the caller.
bool plausible_url(const std::string& url) {
  std::string rest;
  if (url.rfind("http://", 0) == 0)
    rest = url.substr(7);
  else if (url.rfind("https://", 0) == 0)
    rest = url.substr(8);
  else
    return false;
  if (rest.empty() || rest[0] == '/' || rest[0] == ':')
    return false;
  return rest.find_first_of(" \t\r\n") == std::string::npos;
}

bool valid_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  try {
    parse_int("coordinator", s.substr(colon + 1), 1, 65535);
  } catch (const config_error&) {
    return false;
  }
  return true;
}

using setter = std::function<void(config&, const std::string& key,
                                  const std::string& value)>;

// The one table of settings: its key (file spelling) and how to apply it.
const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = {
    {"database_url", [](config& c, auto&, auto& v) { c.database_url = v; }},
    {"http_host", [](config& c, auto&, auto& v) { c.http_host = v; }},
    {"http_port",
     [](config& c, auto& k, auto& v) { c.http_port = parse_int(k, v, 0, 65535); }},
    {"auth",
     [](config& c, auto& k, auto& v) {
       if (v != "token" && v != "none")
         throw config_error(k + ": '" + v + "' is not 'token' or 'none'");
       c.auth = v;
     }},
    {"default_account_id",
     [](config& c, auto& k, auto& v) {
       if (v.empty())
         c.default_account_id.reset();
       else
         c.default_account_id = parse_int(k, v, 0, 0x7fffffffffffffffLL);
     }},
    {"upstream_url",
     [](config& c, auto& k, auto& v) {
       if (v != "demo" && !plausible_url(v))
         throw config_error(k + ": '" + v +
                            "' is not an http(s) URL or 'demo'");
       c.upstream_url = v;
       while (c.upstream_url.size() > 1 && c.upstream_url.back() == '/')
         c.upstream_url.pop_back();
     }},
    {"upstream_api_key",
     [](config& c, auto& k, auto& v) {
       // OpenDota's own check (svc/web.ts): any other key answers 400 to
       // every request, so the service would start only to fail each job.
       // The key itself is never echoed.
       static const std::regex uuid(
         "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
         std::regex::icase);
       if (!v.empty() && !std::regex_match(v, uuid))
         throw config_error(k + ": not an OpenDota API key (a UUID such as "
                                "01234567-89ab-4cde-8f01-23456789abcd); OpenDota refuses "
                                "any other with 400 Invalid API key format");
       c.upstream_api_key = v;
     }},
    {"upstream_daily_limit",
     [](config& c, auto& k, auto& v) {
       c.upstream_daily_limit = parse_int(k, v, 0, 100000000);
       c.upstream_daily_limit_set = true;
     }},
    {"upstream_day_start_utc",
     [](config& c, auto& k, auto& v) {
       int h = -1, m = -1;
       char extra = 0;
       if (v.size() != 5 || std::sscanf(v.c_str(), "%2d:%2d%c", &h, &m, &extra) != 2 ||
           h < 0 || h > 23 || m < 0 || m > 59)
         throw config_error(k + ": '" + v + "' is not HH:MM (UTC)");
       c.upstream_day_start_minute = h * 60 + m;
     }},
    {"upstream_rate_per_minute",
     [](config& c, auto& k, auto& v) {
       c.upstream_rate_per_minute = parse_int(k, v, 0, 1000000);
     }},
    {"upstream_page_size",
     [](config& c, auto& k, auto& v) { c.upstream_page_size = parse_int(k, v, 1, 1000); }},
    {"upstream_timeout_ms",
     [](config& c, auto& k, auto& v) {
       c.upstream_timeout_ms = parse_int(k, v, 100, 600000);
     }},
    {"upstream_max_retries",
     [](config& c, auto& k, auto& v) { c.upstream_max_retries = parse_int(k, v, 0, 100); }},
    {"upstream_backoff_base_ms",
     [](config& c, auto& k, auto& v) {
       c.upstream_backoff_base_ms = parse_int(k, v, 1, 60000);
     }},
    {"slots", [](config& c, auto& k, auto& v) { c.slots = parse_int(k, v, 0, 10000); }},
    {"db_pool_size",
     [](config& c, auto& k, auto& v) { c.db_pool_size = parse_int(k, v, 1, 1000); }},
    {"cluster_host", [](config& c, auto&, auto& v) { c.cluster_host = v; }},
    {"cluster_port",
     [](config& c, auto& k, auto& v) { c.cluster_port = parse_int(k, v, 0, 65535); }},
    {"cluster_secret", [](config& c, auto&, auto& v) { c.cluster_secret = v; }},
    {"cluster_ca", [](config& c, auto&, auto& v) { c.cluster_ca = v; }},
    {"cluster_cert", [](config& c, auto&, auto& v) { c.cluster_cert = v; }},
    {"cluster_key", [](config& c, auto&, auto& v) { c.cluster_key = v; }},
    {"cluster_tls",
     [](config& c, auto& k, auto& v) {
       if (!v.empty() && v != "on" && v != "off")
         throw config_error(k + ": '" + v + "' is not 'on' or 'off'");
       c.cluster_tls = v;
     }},
    {"coordinator",
     [](config& c, auto& k, auto& v) {
       if (!v.empty() && !valid_host_port(v))
         throw config_error(k + ": '" + v + "' is not HOST:PORT");
       c.coordinator = v;
     }},
    {"node_id", [](config& c, auto&, auto& v) { c.node_id = v; }},
    {"job_lease_s",
     [](config& c, auto& k, auto& v) { c.job_lease_s = parse_int(k, v, 1, 86400); }},
    {"node_timeout_s",
     [](config& c, auto& k, auto& v) { c.node_timeout_s = parse_int(k, v, 0, 86400); }},
    {"cancel_timeout_ms",
     [](config& c, auto& k, auto& v) {
       c.cancel_timeout_ms = parse_int(k, v, 1, 600000);
     }},
    {"job_max_restarts",
     [](config& c, auto& k, auto& v) { c.job_max_restarts = parse_int(k, v, 0, 100); }},
    {"job_max_attempts",
     [](config& c, auto& k, auto& v) { c.job_max_attempts = parse_int(k, v, 1, 100); }},
    {"job_retention_days",
     [](config& c, auto& k, auto& v) { c.job_retention_days = parse_int(k, v, 0, 36500); }},
    {"schedule_quota_share",
     [](config& c, auto& k, auto& v) { c.schedule_quota_share = parse_int(k, v, 0, 100); }},
    {"log_format",
     [](config& c, auto& k, auto& v) {
       if (v != "text" && v != "json")
         throw config_error(k + ": '" + v + "' is not 'text' or 'json'");
       c.log_format = v;
     }},
    {"http_threads",
     [](config& c, auto& k, auto& v) { c.http_threads = parse_int(k, v, 4, 1024); }},
    {"sse_max_streams",
     [](config& c, auto& k, auto& v) { c.sse_max_streams = parse_int(k, v, 0, 1000); }},
    {"static_dir", [](config& c, auto&, auto& v) { c.static_dir = v; }},
    {"fault_throw_at_step",
     [](config& c, auto& k, auto& v) {
       c.fault_throw_at_step = parse_int(k, v, 0, 1000000);
     }},
    {"fault_throw_always",
     [](config& c, auto& k, auto& v) { c.fault_throw_always = parse_bool(k, v); }},
  };
  return table;
}

void apply(config& c, const setting_map& settings, const char* source,
           bool env_names) {
  for (auto& [key, value] : settings) {
    auto it = setters().find(key);
    std::string shown = env_names ? env_name(key) : key;
    // The environment is shared with other tools (a test harness, a
    // wrapper) that may use the prefix too: an unknown variable is noted,
    // not fatal. An unknown key in our own config file is an error.
    if (it == setters().end() && env_names) {
      c.ignored_env.push_back(shown);
      continue;
    }
    if (it == setters().end())
      throw config_error(shown + ": unknown setting (in " + source + ")");
    try {
      it->second(c, shown, value);
    } catch (const config_error& e) {
      throw config_error(std::string(e.what()) + " (in " + source + ")");
    }
  }
}

std::string default_node_id() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0)
    std::snprintf(host, sizeof(host), "node");
  return std::string(host) + "-" + std::to_string(::getpid());
}

// Mutual TLS needs all three files; a half set would silently fall back to
// CAF's anonymous ciphers (which authenticate nobody), so it is an error.
void check_cluster_tls(const config& c) {
  const std::pair<const char*, const std::string*> files[] = {
    {"MATCHSYNC_CLUSTER_CA", &c.cluster_ca},
    {"MATCHSYNC_CLUSTER_CERT", &c.cluster_cert},
    {"MATCHSYNC_CLUSTER_KEY", &c.cluster_key}};
  std::string set, missing;
  for (auto& [name, value] : files) {
    auto& list = value->empty() ? missing : set;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  if (!set.empty() && !missing.empty())
    throw config_error(missing + ": required with " + set +
                       " (mutual TLS between nodes needs the CA, the node's "
                       "certificate and its key)");
  if (c.cluster_tls == "on" && set.empty())
    throw config_error("MATCHSYNC_CLUSTER_TLS: 'on' needs MATCHSYNC_CLUSTER_CA, "
                       "MATCHSYNC_CLUSTER_CERT and MATCHSYNC_CLUSTER_KEY");
  if (c.cluster_tls == "off" && !set.empty())
    throw config_error("MATCHSYNC_CLUSTER_TLS: 'off' while " + set +
                       " are set; unset one or the other");
}

}  // namespace

bool cluster_tls_on(const config& c) {
  return !c.cluster_ca.empty() && !c.cluster_cert.empty() && !c.cluster_key.empty() &&
         c.cluster_tls != "off";
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]")
    return true;
  // 127.0.0.0/8, written as a dotted quad.
  unsigned a, b, c, d;
  char extra;
  return std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &extra) == 4 &&
         a == 127 && b < 256 && c < 256 && d < 256;
}

setting_map parse_config_text(const std::string& text) {
  setting_map out;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty())
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos)
      throw config_error("config file line " + std::to_string(number) +
                         ": expected 'key = value'");
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    out[key] = value;
  }
  return out;
}

setting_map settings_from_environment(char** envp) {
  setting_map out;
  const std::string prefix = "MATCHSYNC_";
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind(prefix, 0) != 0)
      continue;
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      continue;
    std::string key;
    for (char ch : kv.substr(prefix.size(), eq - prefix.size()))
      key += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Variables of the test harness share the prefix but are no settings.
    if (key.rfind("test_", 0) == 0)
      continue;
    out[key] = kv.substr(eq + 1);
  }
  return out;
}

config load_config(const setting_map& file, const setting_map& env,
                   const setting_map& flags) {
  config c;
  apply(c, file, "config file", false);
  apply(c, env, "environment", true);
  apply(c, flags, "flags", false);
  if (c.node_id.empty())
    c.node_id = default_node_id();
  // OpenDota caps requests without a key per day (2,000 since Dec 2023);
  // with a key it has no daily cap.
  if (!c.upstream_daily_limit_set)
    c.upstream_daily_limit = c.upstream_api_key.empty() ? 2000 : 0;
  if (c.auth == "none" && !c.default_account_id)
    throw config_error(
      "MATCHSYNC_DEFAULT_ACCOUNT_ID: required when MATCHSYNC_AUTH=none");
  check_cluster_tls(c);
  return c;
}

config load_config(const std::optional<std::string>& file_path,
                   const setting_map& flags) {
  setting_map file;
  if (file_path) {
    std::ifstream in(*file_path);
    if (!in)
      throw config_error("config file '" + *file_path + "' cannot be read");
    std::stringstream ss;
    ss << in.rdbuf();
    file = parse_config_text(ss.str());
  }
  return load_config(file, settings_from_environment(environ), flags);
}

}  // namespace matchsync
