#include "upstream/demo_client.hpp"

#include "upstream/cancel_token.hpp"
#include "upstream/demo_data.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync::upstream {

namespace {

using steady = std::chrono::steady_clock;

// Initialised during static initialisation, i.e. at process start.
const steady::time_point started = steady::now();

fetch_result cancelled(fetch_result result) {
  result.kind = result_kind::cancelled;
  result.data = nullptr;
  return result;
}

}  // namespace

steady::time_point demo_options::process_start() {
  return started;
}

demo_client::demo_client(rate_budget& budget, demo_options options)
  : budget_(budget), options_(options), latency_source_(options.seed) {}

// The day's quota holds for the demo too (SPEC §2): a spent day is a quota
// wait, as with OpenDota.
static bool day_spent(rate_budget& budget, fetch_result& result) {
  auto* day = budget.daily();
  if (day == nullptr)
    return false;
  auto resume = day->take();
  if (!resume)
    return false;
  result.kind = result_kind::daily_limit;
  result.resume_at = resume;
  result.error = "the upstream's daily quota is used up";
  return true;
}

bool demo_client::simulate_request(cancel_token& token, request_stats& stats) {
  auto budget_start = steady::now();
  bool granted = budget_.acquire(token);
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
    steady::now() - budget_start);
  stats.budget_wait += waited;
  if (!granted)
    return false;
  notify_budget_wait(waited);
  stats.requests += 1;
  auto lo = options_.latency_min.count();
  auto hi = std::max(options_.latency_max.count(), lo);
  std::chrono::milliseconds latency;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    latency = std::chrono::milliseconds(
      std::uniform_int_distribution<std::int64_t>(lo, hi)(latency_source_));
  }
  if (!token.wait_for(latency)) {
    stats.statuses.push_back(0);
    return false;
  }
  stats.statuses.push_back(200);
  return true;
}

int demo_client::current_size(std::int64_t account_id) const {
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
    steady::now() - options_.started_at);
  return demo::history_size(account_id, elapsed, options_.new_match_every);
}

list_result demo_client::list_matches(std::int64_t account_id, int limit,
                                      int offset, cancel_token& token) {
  list_result result;
  if (day_spent(budget_, result))
    return result;
  if (!simulate_request(token, result.stats))
    return cancelled(std::move(result));
  result.kind = result_kind::ok;
  auto size = current_size(account_id);
  // limit < 1: the whole history, as OpenDota answers without `limit`.
  result.data = limit < 1 ? demo::page(account_id, size, size, 0)
                          : demo::page(account_id, size, limit, offset);
  return result;
}

fetch_result demo_client::account(std::int64_t account_id, cancel_token& token) {
  // Every demo account is public: its history can be read.
  fetch_result result;
  if (day_spent(budget_, result))
    return result;
  if (!simulate_request(token, result.stats))
    return cancelled(std::move(result));
  result.kind = result_kind::ok;
  result.data = {{"profile", {{"account_id", account_id}, {"fh_unavailable", false}}}};
  return result;
}

detail_result demo_client::match_detail(std::int64_t match_id,
                                        cancel_token& token) {
  detail_result result;
  if (day_spent(budget_, result))
    return result;
  if (!simulate_request(token, result.stats))
    return cancelled(std::move(result));
  auto owner = demo::owner_of(match_id);
  if (!owner || owner->index >= current_size(owner->account_id)) {
    result.kind = result_kind::not_found;
    result.stats.statuses.back() = 404;
    return result;
  }
  result.kind = result_kind::ok;
  result.text = demo::detail(owner->account_id, owner->index).dump();
  return result;
}

}  // namespace matchsync::upstream
