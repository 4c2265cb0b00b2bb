// The API's JSON shapes (SPEC §4): SyncJob, Match, the stats summary. Pure
// functions of stored values, so a test pins every key.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "core/sync_job.hpp"
#include "persistence/match_store.hpp"
#include "persistence/schedule_store.hpp"

namespace matchsync::http {

/// A SyncJob: id, account_id, job_type, status, phase, the counters,
/// progress_percentage, node, attempt and the timestamps.
nlohmann::ordered_json job_view(const sync_job& job);

/// A Match; `with_details` adds `details` (the stored object, or null).
nlohmann::ordered_json match_view(const db::match_row& m, bool with_details);

/// The stats summary: totals, win_rate (wins over decided matches, a fraction
/// 0..1, 0 when none) and averages (two decimals).
nlohmann::ordered_json stats_view(const db::match_stats& s);

/// ISO-8601 UTC, seconds precision: "2026-11-28T10:00:00Z".
std::string iso_time(std::chrono::system_clock::time_point t);

/// GET/PUT /sync/schedule's answer: enabled, interval_minutes, next_run_at
/// (null while off), last_run_job_id.
nlohmann::ordered_json schedule_view(const db::schedule_row& s);

}  // namespace matchsync::http
