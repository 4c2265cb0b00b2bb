#include "sync/details_ahead.hpp"

namespace matchsync::sync {

details_ahead::details_ahead(upstream::client& client, std::vector<std::int64_t> ids,
                             upstream::cancel_token& job_token)
  : ids_(std::move(ids)) {
  if (ids_.empty())
    return;
  follow_ = job_token.on_cancel([this] { token_.cancel(); });
  thread_ = std::thread([this, &client] {
    auto start = std::chrono::steady_clock::now();
    results_ = client.match_details(ids_, token_);
    took_ = std::chrono::steady_clock::now() - start;
  });
}

details_ahead::~details_ahead() { stop(); }

void details_ahead::stop() {
  if (!thread_.joinable())
    return;
  token_.cancel();
  thread_.join();
}

std::vector<upstream::detail_result> details_ahead::take() {
  if (thread_.joinable())
    thread_.join();
  return std::move(results_);
}

}  // namespace matchsync::sync
