#include "upstream/client.hpp"

namespace matchsync::upstream {

const char* to_string(result_kind kind) {
  switch (kind) {
    case result_kind::ok:
      return "ok";
    case result_kind::not_found:
      return "not_found";
    case result_kind::daily_limit:
      return "daily_limit";
    case result_kind::key_refused:
      return "key_refused";
    case result_kind::failed:
      return "failed";
    case result_kind::cancelled:
      return "cancelled";
  }
  return "unknown";
}

std::vector<detail_result> client::match_details(
  const std::vector<std::int64_t>& match_ids, cancel_token& token) {
  std::vector<detail_result> results(match_ids.size());
  for (auto& r : results)
    r.kind = result_kind::cancelled;
  for (std::size_t k = 0; k < match_ids.size(); ++k) {
    results[k] = match_detail(match_ids[k], token);
    if (stops_batch(results[k].kind))
      break;
  }
  return results;
}

list_result client::whole_history(std::int64_t account_id, cancel_token& token) {
  auto r = list_matches(account_id, 0, 0, token);
  if (r.ok()) {
    r.text = r.data.dump();
    r.data = nullptr;
  }
  return r;
}

fetch_result client::win_loss(std::int64_t, cancel_token&) {
  fetch_result r;
  r.kind = result_kind::failed;
  r.error = "this upstream has no win/loss counts";
  return r;
}

const char* to_string(wait_notice::cause why) {
  return why == wait_notice::cause::budget ? "budget" : "rate_limited";
}

}  // namespace matchsync::upstream
