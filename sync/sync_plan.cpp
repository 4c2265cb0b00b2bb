#include "sync/sync_plan.hpp"

#include <algorithm>

namespace matchsync::sync {

after_page plan_after_page(job_type type, const std::vector<std::int64_t>& page_ids,
                           int limit, std::optional<std::int64_t> complete_through) {
  if (static_cast<int>(page_ids.size()) < limit)
    return after_page::stop_listing;  // the end of history
  if (type == job_type::incremental_sync && complete_through) {
    for (auto id : page_ids)
      if (id <= *complete_through)
        return after_page::stop_listing;
  }
  return after_page::list_next;
}

bool backfill_check_due(job_type type, const std::vector<std::int64_t>& page_ids, int limit,
                        std::optional<std::int64_t> complete_through) {
  if (type != job_type::incremental_sync || !complete_through ||
      static_cast<int>(page_ids.size()) < limit)
    return false;
  return std::any_of(page_ids.begin(), page_ids.end(),
                     [&](std::int64_t id) { return id <= *complete_through; });
}

std::optional<std::int64_t> history_size_of(std::optional<std::int64_t> win,
                                            std::optional<std::int64_t> lose) {
  if (!win || !lose || *win < 0 || *lose < 0)
    return std::nullopt;
  return *win + *lose;
}

std::optional<std::int64_t> raised_mark(std::optional<std::int64_t> old_mark,
                                        std::optional<std::int64_t> newest_seen) {
  if (!newest_seen)
    return old_mark;
  if (!old_mark)
    return newest_seen;
  return std::max(*old_mark, *newest_seen);
}

bool fetch_ahead_pays(std::chrono::nanoseconds fetch, std::chrono::nanoseconds commit) {
  if (fetch.count() <= 0 || commit.count() <= 0)
    return false;
  auto shorter = std::min(fetch, commit), longer = std::max(fetch, commit);
  return shorter * 4 >= longer;
}

}  // namespace matchsync::sync
