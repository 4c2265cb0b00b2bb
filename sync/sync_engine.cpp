#include "sync/sync_engine.hpp"

#include "core/errors.hpp"
#include "persistence/database.hpp"
#include "persistence/match_store.hpp"
#include "persistence/sync_state_store.hpp"
#include "sync/details_ahead.hpp"
#include "sync/sync_plan.hpp"
#include "upstream/cancel_token.hpp"

namespace matchsync::sync {

namespace {
[[noreturn]] void throw_fenced(const sync_job& job) {
  throw domain_error(errc::fenced, "job " + std::to_string(job.id) +
                                     " is no longer ours to write");
}
}  // namespace

sync_engine::sync_engine(sync_job job, db::job_fence fence,
                         upstream::client& upstream, engine_settings settings)
  : job_(std::move(job)), fence_(std::move(fence)), upstream_(upstream),
    settings_(settings) {
  if (!job_.phase)
    job_.phase = "listing";
}

step_result sync_engine::step(db::connection_source& source,
                              upstream::cancel_token& token) {
  if (token.cancelled())
    return step_result::cancelled;
  return *job_.phase == "details" ? details_step(source, token)
                                  : list_step(source, token);
}

step_result sync_engine::step(pqxx::connection& conn, upstream::cancel_token& token) {
  db::single_connection source(conn);
  return step(source, token);
}

step_result sync_engine::list_step(db::connection_source& source,
                                   upstream::cancel_token& token) {
  auto offset = static_cast<int>(job_.list_offset);
  auto page = upstream_.list_matches(job_.account_id, settings_.page_size, offset, token);
  add_stats(page.stats);
  switch (page.kind) {
    case upstream::result_kind::ok: break;
    case upstream::result_kind::cancelled: return step_result::cancelled;
    case upstream::result_kind::daily_limit:
    case upstream::result_kind::key_refused:
      throw domain_error(errc::upstream_failed, page.error);
    default:
      throw domain_error(errc::upstream_failed,
                         "listing matches at offset " + std::to_string(offset) +
                           " failed: " + page.error);
  }
  std::vector<std::int64_t> ids;
  for (auto& item : page.data)
    if (item.is_object() && item.contains("match_id") &&
        item["match_id"].is_number_integer())
      ids.push_back(item["match_id"].get<std::int64_t>());
  auto summaries = page.data.dump();
  if (token.cancelled())
    return step_result::cancelled;  // no commit, so no wait for a connection

  source.with_connection([&](pqxx::connection& conn) {
    sync_job next = job_;
    pqxx::work tx(conn);
    auto counts = db::match_store::upsert_summaries(tx, job_.account_id, job_.id, summaries);
    next.new_matches += counts.inserted;
    next.updated_matches += counts.updated;
    if (!ids.empty()) {
      auto newest = *std::max_element(ids.begin(), ids.end());
      next.list_top_match_id = raised_mark(next.list_top_match_id, newest);
    }
    auto mark = db::sync_state_store::complete_through(tx, job_.account_id);
    bool incremental = job_.type == job_type::incremental_sync;
    // While listing, the total grows with what this job will process: for
    // an incremental the new matches plus stored ones still lacking details
    // (leftovers of interrupted syncs). Those are counted once, with the
    // first page (on the partial index of what lacks details); each later
    // page adds the matches it inserted.
    if (!incremental)
      next.total_matches += static_cast<std::int64_t>(ids.size());
    else if (job_.list_offset == 0)
      next.total_matches = db::match_store::count_below(tx, job_.account_id, std::nullopt, true);
    else
      next.total_matches += counts.inserted;
    if (plan_after_page(job_.type, ids, settings_.page_size, mark) ==
        after_page::stop_listing) {
      if (auto raised = raised_mark(mark, next.list_top_match_id))
        db::sync_state_store::raise_complete_through(tx, job_.account_id, *raised);
      next.phase = "details";
      next.detail_cursor.reset();
      next.total_matches = db::match_store::count_below(
        tx, job_.account_id, std::nullopt, details_only_lacking(job_.type));
      next.processed_matches = 0;
    } else {
      next.list_offset = offset + static_cast<std::int64_t>(ids.size());
    }
    commit_as(tx, next);
  });
  return step_result::more;
}

step_result sync_engine::details_step(db::connection_source& source,
                                      upstream::cancel_token& token) {
  // This step's batch and the next one's, which may be fetched while this
  // one commits.
  auto batch_size = static_cast<std::size_t>(settings_.details_per_step);
  std::vector<std::int64_t> window;
  source.with_connection([&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    window = db::match_store::ids_below(tx, job_.account_id, job_.detail_cursor,
                                        details_only_lacking(job_.type),
                                        static_cast<int>(2 * batch_size));
  });
  if (window.empty()) {
    std::optional<sync_job> done;
    source.with_connection(
      [&](pqxx::connection& conn) { done = db::job_store(conn).complete(fence_); });
    if (!done)
      throw_fenced(job_);
    job_ = *done;
    return step_result::done;
  }
  auto split = window.begin() + static_cast<std::ptrdiff_t>(std::min(batch_size, window.size()));
  std::vector<std::int64_t> ids(window.begin(), split);
  std::vector<std::int64_t> next(split, window.end());

  // Fetched by the step before, unless what lacks details changed since.
  std::vector<upstream::detail_result> results;
  if (ahead_ids_ == ids) {
    results = std::move(ahead_);
  } else {
    // The batch's requests may run side by side (the client's lanes); the
    // commit below is the step's only effect, so their order does not matter.
    auto start = std::chrono::steady_clock::now();
    results = upstream_.match_details(ids, token);
    last_fetch_ = std::chrono::steady_clock::now() - start;
    for (auto& r : results)
      add_stats(r.stats);
  }
  ahead_.clear();
  ahead_ids_.clear();
  for (auto& r : results)
    if (r.kind == upstream::result_kind::daily_limit ||
        r.kind == upstream::result_kind::key_refused)
      throw domain_error(errc::upstream_failed, r.error);

  std::vector<db::detail_write> batch;
  batch.reserve(ids.size());
  std::int64_t failed = 0;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    auto& r = results[k];
    switch (r.kind) {
      case upstream::result_kind::ok:
        batch.push_back({ids[k], db::detail_outcome::fetched, std::move(r.text)});
        break;
      case upstream::result_kind::not_found:
        batch.push_back({ids[k], db::detail_outcome::none, {}});
        break;
      case upstream::result_kind::failed:
        batch.push_back({ids[k], db::detail_outcome::failed, {}});
        ++failed;
        break;
      case upstream::result_kind::daily_limit:
      case upstream::result_kind::key_refused:
      case upstream::result_kind::cancelled:
        return step_result::cancelled;
    }
  }
  if (token.cancelled())
    return step_result::cancelled;

  // The next batch is fetched during the commit when that pays (sync_plan);
  // a failed commit abandons it (cancelled, not waited out).
  if (settings_.fetch_ahead == fetch_ahead_rule::when_it_pays &&
      !fetch_ahead_pays(last_fetch_, last_commit_))
    next.clear();
  details_ahead fetch(upstream_, std::move(next), token);
  auto commit_start = std::chrono::steady_clock::now();
  source.with_connection([&](pqxx::connection& conn) {
    sync_job next_job = job_;
    pqxx::work tx(conn);
    next_job.updated_matches += db::match_store::store_details(tx, job_.account_id, job_.id, batch);
    next_job.failed_matches += failed;
    next_job.processed_matches += static_cast<std::int64_t>(batch.size());
    next_job.detail_cursor = ids.back();
    commit_as(tx, next_job);
  });
  last_commit_ = std::chrono::steady_clock::now() - commit_start;
  ahead_ = fetch.take();
  ahead_ids_ = fetch.ids();
  if (!ahead_ids_.empty())
    last_fetch_ = fetch.took();
  for (auto& r : ahead_)
    add_stats(r.stats);
  return step_result::more;
}

db::job_progress sync_engine::progress_of(const sync_job& job) {
  db::job_progress p;
  p.phase = job.phase.value_or("listing");
  p.total_matches = job.total_matches;
  p.processed_matches = job.processed_matches;
  p.new_matches = job.new_matches;
  p.updated_matches = job.updated_matches;
  p.failed_matches = job.failed_matches;
  p.list_offset = job.list_offset;
  p.list_top_match_id = job.list_top_match_id;
  p.detail_cursor = job.detail_cursor;
  return p;
}

void sync_engine::commit_as(pqxx::work& tx, const sync_job& next) {
  // job_ stays the last committed state until the commit succeeded.
  if (!db::job_store::update_progress(tx, fence_, progress_of(next), settings_.lease_s)) {
    tx.abort();
    throw_fenced(job_);
  }
  tx.commit();
  job_ = next;
}

void sync_engine::add_stats(const upstream::request_stats& s) {
  stats_.requests += s.requests;
  stats_.statuses.insert(stats_.statuses.end(), s.statuses.begin(), s.statuses.end());
  stats_.rate_limited += s.rate_limited;
  stats_.budget_wait += s.budget_wait;
  stats_.backoff_wait += s.backoff_wait;
}

upstream::request_stats sync_engine::take_stats() {
  upstream::request_stats out;
  std::swap(out, stats_);
  return out;
}

}  // namespace matchsync::sync
