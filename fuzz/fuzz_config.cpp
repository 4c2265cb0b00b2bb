// Fuzzes the config file: parse_config_text on the input, then
// load_config on the result. config_error is the expected refusal; any
// other exception escapes and libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  matchsync::setting_map settings;
  try {
    settings = matchsync::parse_config_text(text);
  } catch (const matchsync::config_error&) {
    return 0;
  }
  try {
    auto c = matchsync::load_config(settings, {}, {});
    // What validation promises the rest of the program.
    if (c.http_port < 0 || c.http_port > 65535 || c.cluster_port < 0 ||
        c.cluster_port > 65535 || c.upstream_page_size < 1 ||
        c.http_threads < 4 || c.job_max_attempts < 1 || c.node_id.empty() ||
        (c.auth != "token" && c.auth != "none") ||
        (c.auth == "none" && !c.default_account_id) ||
        (c.log_format != "text" && c.log_format != "json"))
      std::abort();
  } catch (const matchsync::config_error&) {
  }
  return 0;
}
