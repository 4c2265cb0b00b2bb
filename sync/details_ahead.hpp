// The next batch of details, fetched on a thread of its own while the
// engine commits the current batch, so that upstream round trips overlap
// database writes. It never outlives the step that started it.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "upstream/cancel_token.hpp"
#include "upstream/client.hpp"

namespace matchsync::sync {

class details_ahead {
public:
  /// Starts fetching `ids` (none: nothing starts). The fetch has a cancel
  /// token of its own that follows `job_token`.
  details_ahead(upstream::client& client, std::vector<std::int64_t> ids,
                upstream::cancel_token& job_token);
  details_ahead(const details_ahead&) = delete;
  details_ahead& operator=(const details_ahead&) = delete;
  /// An abandoned fetch (the commit failed) is cancelled, not waited out.
  ~details_ahead();

  const std::vector<std::int64_t>& ids() const { return ids_; }

  /// Waits for the fetch to end; one result per id, as client::match_details.
  std::vector<upstream::detail_result> take();

  /// How long the fetch took (after take()).
  std::chrono::nanoseconds took() const { return took_; }

private:
  void stop();

  std::vector<std::int64_t> ids_;
  std::vector<upstream::detail_result> results_;
  std::chrono::nanoseconds took_{0};
  upstream::cancel_token token_;
  upstream::cancel_token::registration follow_;  // before token_ goes
  std::thread thread_;
};

}  // namespace matchsync::sync
