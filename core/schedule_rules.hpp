// The rules of automatic syncs (SPEC §3 Schedules), free of CAF and SQL: when
// a user's schedule is due, what a due schedule does, and how much of the
// day's upstream quota scheduled runs may use. Times are seconds since the
// epoch (UTC).
#pragma once

#include <cstdint>
#include <optional>

namespace matchsync::schedule {

constexpr int min_interval_minutes = 15;
constexpr int max_interval_minutes = 10080;  // 7 days
constexpr int default_interval_minutes = 60;

inline bool valid_interval(std::int64_t minutes) {
  return minutes >= min_interval_minutes && minutes <= max_interval_minutes;
}

/// The user's stable offset inside an interval, in seconds [0, interval):
/// the same on every node and after every restart (a hash of the user id),
/// so a thousand schedules of one interval fire spread over it, not in the
/// second they were turned on.
std::int64_t phase_s(std::int64_t user_id, int interval_minutes);

/// The first due time strictly after `after`: the user's phase plus a whole
/// number of intervals.
std::int64_t next_due(std::int64_t after, std::int64_t user_id, int interval_minutes);

/// The due time after a run made (or skipped) at `now`: the first of the
/// user's due times at least half an interval after `now`. A run made on
/// time gets the due time one interval on, as next_due would give. A
/// catch-up run after downtime is made at any moment, perhaps a second
/// before one of the user's due times; that due time is then passed over,
/// so a scheduled run is never followed by the next within seconds.
/// (Turning a schedule on still makes it due at its next due time, which
/// may be a second away: the user asked for it.) A run more than half an
/// interval late passes the next due time over too: up to 1.5 intervals
/// pass between two runs then.
std::int64_t next_after_run(std::int64_t now, std::int64_t user_id, int interval_minutes);

/// What a due schedule does now.
enum class action {
  start,  ///< create an incremental job (triggered_by "schedule")
  skip,   ///< the user has an active job: overlap policy "skip"
  defer,  ///< the quota share of scheduled runs is used up today
};

struct due_input {
  std::int64_t now = 0;
  std::int64_t user_id = 0;
  int interval_minutes = default_interval_minutes;
  bool user_has_active_job = false;
  bool quota_share_left = true;
  /// When the upstream's next quota day starts (for a deferral).
  std::int64_t next_quota_day = 0;
};

struct due_outcome {
  action what = action::start;
  /// The schedule's next due time. One run however many due times passed
  /// while nobody looked (catch-up of one): the next is at least half an
  /// interval after `now` (next_after_run).
  std::int64_t next_run_at = 0;
};

due_outcome on_due(const due_input& in);

/// Whether scheduled runs may still take a request today: they use at most
/// `share_percent` of the day's `limit` (0 = no daily limit: always). Syncs
/// users start may use the rest, so scheduled runs give way to them.
bool scheduled_share_left(std::int64_t used_today, std::int64_t limit, int share_percent);

/// The daily limit scheduled runs count against: `share_percent` of `limit`
/// (0 stays 0, "none"; a positive limit gives at least 1).
std::int64_t scheduled_limit(std::int64_t limit, int share_percent);

}  // namespace matchsync::schedule
