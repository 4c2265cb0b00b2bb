#include "sync/shared_daily_quota.hpp"

#include "core/errors.hpp"
#include "persistence/upstream_quota_store.hpp"
#include "upstream/quota_day.hpp"

namespace matchsync::sync {

shared_daily_quota::shared_daily_quota(db::connection_source& db, int limit,
                                       int day_start_minute, wall_clock wall)
  : db_(db), limit_(limit), day_start_minute_(day_start_minute), wall_(std::move(wall)) {
  if (!wall_)
    wall_ = [] { return std::chrono::system_clock::now().time_since_epoch(); };
}

std::optional<std::chrono::system_clock::duration> shared_daily_quota::known_spent(
  std::int64_t day) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (spent_day_ && *spent_day_ == day)
    return resume_at_;
  return std::nullopt;
}

std::optional<std::chrono::system_clock::duration> shared_daily_quota::take() {
  auto day = upstream::quota_day_of(wall_(), day_start_minute_);
  auto next = upstream::quota_day_start(day + 1, day_start_minute_);
  if (auto known = known_spent(day))
    return known;
  if (limit_ == 0)
    return std::nullopt;
  std::optional<std::int64_t> counted;
  bool refused = false;
  try {
    db_.with_connection([&](pqxx::connection& conn) {
      pqxx::work tx(conn);
      counted = db::upstream_quota_store::take(tx, upstream::quota_day_date(day), limit_);
      tx.commit();
      refused = !counted;
    });
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!refused)
    return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  spent_day_ = day;
  resume_at_ = next;
  return next;
}

std::chrono::system_clock::duration shared_daily_quota::spent() {
  auto day = upstream::quota_day_of(wall_(), day_start_minute_);
  auto next = upstream::quota_day_start(day + 1, day_start_minute_);
  if (auto known = known_spent(day))
    return *known;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    spent_day_ = day;
    resume_at_ = next;
  }
  try {
    db_.with_connection([&](pqxx::connection& conn) {
      pqxx::work tx(conn);
      db::upstream_quota_store::mark_spent(tx, upstream::quota_day_date(day));
      tx.commit();
    });
  } catch (const std::exception&) {
    // Other nodes learn it from the upstream themselves.
  }
  return next;
}

upstream::quota_usage shared_daily_quota::usage() {
  auto day = upstream::quota_day_of(wall_(), day_start_minute_);
  upstream::quota_usage u;
  u.limit = limit_;
  db_.with_connection([&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    u.used = db::upstream_quota_store::read(tx, upstream::quota_day_date(day)).used;
  });
  return u;
}

}  // namespace matchsync::sync
