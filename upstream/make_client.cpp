#include "upstream/make_client.hpp"

#include <stdexcept>

#include "config/config.hpp"
#include "upstream/demo_client.hpp"
#include "upstream/http_client.hpp"
#include "upstream/url.hpp"

namespace matchsync::upstream {

std::unique_ptr<client> make_client(const matchsync::config& cfg,
                                    rate_budget& budget) {
  if (cfg.upstream_url == demo_upstream)
    return std::make_unique<demo_client>(budget);
  http_client_options options;
  options.base_url = cfg.upstream_url;
  options.api_key = cfg.upstream_api_key;
  options.timeout = std::chrono::milliseconds(cfg.upstream_timeout_ms);
  options.max_retries = cfg.upstream_max_retries;
  options.backoff.base = std::chrono::milliseconds(cfg.upstream_backoff_base_ms);
  // http_client validates the URL and throws the one-line message.
  return std::make_unique<http_client>(std::move(options), budget);
}

}  // namespace matchsync::upstream
