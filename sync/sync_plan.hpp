// When a sync stops listing, and what its counters mean: pure rules, no
// framework, no SQL, no clock (SPEC §3).
//
// The no-gap rule. `complete_through` (per account) is the highest match id
// below which every upstream match is known stored. A job lists pages newest
// first from offset 0; only once its listing has reached the end of history,
// or a page holding an id <= complete_through, is the mark raised to the
// newest id this job saw. An interrupted listing never raises it, so the next
// incremental lists through the interrupted part again instead of stopping at
// "the first match already in the table".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/sync_job.hpp"

namespace matchsync::sync {

/// What follows a listed page.
enum class after_page { list_next, stop_listing };

/// Decides after one page of `page_ids` (newest first), asked with `limit`.
/// Full syncs list to the end; incremental ones also stop at the known-
/// complete part of history.
after_page plan_after_page(job_type type, const std::vector<std::int64_t>& page_ids,
                           int limit, std::optional<std::int64_t> complete_through);

/// Backfills (OpenDota adds older matches to a history after the fact,
/// svc/fullhistory.ts): an incremental that stopped listing at the known-
/// complete part of history, on a full page (the history goes on below
/// it), asks the upstream's history size once (/wl). A listing that ended
/// on a short page saw every match: nothing to ask.
bool backfill_check_due(job_type type, const std::vector<std::int64_t>& page_ids, int limit,
                        std::optional<std::int64_t> complete_through);

/// The history size a /wl answer gives (win + lose), or nullopt when it is
/// not two counts.
std::optional<std::int64_t> history_size_of(std::optional<std::int64_t> win,
                                            std::optional<std::int64_t> lose);

/// Whether the whole history must be listed to find matches that arrived
/// below the mark: the upstream lists more than is stored. (Matches that
/// vanished upstream are kept, so a history that lost as many as it gained
/// looks unchanged; the next full sync finds those.)
inline bool backfill_listing_due(std::int64_t upstream_size, std::int64_t stored) {
  return upstream_size > stored;
}

/// The mark a completed listing leaves: the newest id seen, never lower
/// than the old mark; nullopt when nothing is known.
std::optional<std::int64_t> raised_mark(std::optional<std::int64_t> old_mark,
                                        std::optional<std::int64_t> newest_seen);

/// Whether a job's details phase takes every stored match (full) or only
/// those lacking details (incremental: new ones and leftovers).
inline bool details_only_lacking(job_type type) {
  return type == job_type::incremental_sync;
}

/// Whether the next batch of details should be fetched while this batch
/// commits, from how long the last fetch and the last commit took (zero:
/// not known yet). The overlap saves the shorter of the two and costs a
/// thread per job: worth it when the shorter is at least a quarter of the
/// longer. Against a quick upstream the fetch hides behind the commit;
/// against a slow one (seconds per batch, a commit of milliseconds) a job
/// fetches within its step, and a node running many jobs keeps its threads.
bool fetch_ahead_pays(std::chrono::nanoseconds fetch, std::chrono::nanoseconds commit);

}  // namespace matchsync::sync
