// An experiment for bench_ingest (not product code): an in-process
// OpenDota stand-in that serves pre-rendered pages and details (a detail is
// a template with its match id spliced in), so that the upstream costs next
// to no CPU on the two cores the sync and PostgreSQL share.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace matchsync::bench {

class static_upstream {
public:
  /// Serves `history` (newest first, as the fake lists it) and details made
  /// from `detail_template` (any detail object of the wanted size).
  static_upstream(nlohmann::json history, const nlohmann::json& detail_template);
  ~static_upstream();
  std::string url() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace matchsync::bench
