// The cluster-wide daily quota (SPEC §2): the day's count lives in the
// database (upstream_quota), so every node takes from the same count and a
// restart gives nothing back. A node remembers a spent day until the next
// one starts and asks the database nothing meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "persistence/database.hpp"
#include "upstream/daily_quota.hpp"

namespace matchsync::sync {

class shared_daily_quota final : public upstream::daily_quota {
public:
  using wall_clock = std::function<std::chrono::system_clock::duration()>;

  /// `limit` requests per day (0 = none of our own: only the upstream's
  /// word spends a day, and nothing is counted); the day starts
  /// `day_start_minute` after 00:00 UTC. `db` lends a connection for each
  /// count (a short statement); it must outlive this. `wall` defaults to
  /// the system clock.
  shared_daily_quota(db::connection_source& db, int limit, int day_start_minute,
                     wall_clock wall = {});

  /// A database that cannot be reached grants the request (the upstream's
  /// own daily answer still stops us): an outage must not stop every job.
  std::optional<std::chrono::system_clock::duration> take() override;
  std::chrono::system_clock::duration spent() override;
  upstream::quota_usage usage() override;

  int limit() const { return limit_; }
  int day_start_minute() const { return day_start_minute_; }

private:
  /// When the next day starts if `day` is known spent here.
  std::optional<std::chrono::system_clock::duration> known_spent(std::int64_t day);

  db::connection_source& db_;
  const int limit_;
  const int day_start_minute_;
  wall_clock wall_;
  std::mutex mutex_;
  // The day known spent on this node, and when the next one starts.
  std::optional<std::int64_t> spent_day_;
  std::chrono::system_clock::duration resume_at_{};
};

}  // namespace matchsync::sync
