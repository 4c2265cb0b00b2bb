// Picks the upstream the configuration names: the built-in demo or OpenDota
// over HTTP(S).
#pragma once

#include <memory>

#include "upstream/client.hpp"

namespace matchsync {
struct config;
}

namespace matchsync::upstream {

class rate_budget;

/// A demo_client when `cfg.upstream_url` is `demo`, else an http_client with
/// the config's URL, api key, timeout and retry bound. Throws
/// std::invalid_argument with a one-line message naming
/// MATCHSYNC_UPSTREAM_URL when the URL is invalid (see valid_upstream_url).
/// `budget` must outlive the client.
std::unique_ptr<client> make_client(const matchsync::config& cfg,
                                    rate_budget& budget);

}  // namespace matchsync::upstream
