// An experiment for bench_ingest (not product code): an in-process
// OpenDota stand-in that serves pre-rendered pages and details (a detail is
// a template with its match id spliced in), so that the upstream costs next
// to no CPU on the two cores the sync and PostgreSQL share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace matchsync::bench {

class static_upstream {
public:
  /// Serves `history` (newest first, as the fake lists it) and details made
  /// from `detail_template` (any detail object of the wanted size).
  static_upstream(nlohmann::json history, const nlohmann::json& detail_template);
  /// Serves `history` and, for its k-th match, `details[k % size]` as they
  /// are (real details rendered once by the fake: their sizes, not their ids).
  static_upstream(nlohmann::json history, std::vector<std::string> details);
  ~static_upstream();
  std::string url() const;

private:
  void serve();
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace matchsync::bench
