#include "sync/sync_engine.hpp"

#include "core/errors.hpp"
#include "persistence/database.hpp"
#include "persistence/match_store.hpp"
#include "persistence/sync_state_store.hpp"
#include "sync/detail_fingerprint.hpp"
#include "sync/details_ahead.hpp"
#include "sync/listing_pages.hpp"
#include "sync/sync_plan.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/quota_day.hpp"

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
  if (check_backfill_)
    return backfill_step(source, token);
  return *job_.phase == "details" ? details_step(source, token)
                                  : list_step(source, token);
}

step_result sync_engine::step(pqxx::connection& conn, upstream::cancel_token& token) {
  db::single_connection source(conn);
  return step(source, token);
}

std::optional<step_result> sync_engine::settle(db::connection_source& source,
                                               upstream::fetch_result& r,
                                               const std::string& what) {
  add_stats(r.stats);
  switch (r.kind) {
    case upstream::result_kind::ok: return std::nullopt;
    case upstream::result_kind::cancelled: return step_result::cancelled;
    case upstream::result_kind::daily_limit: return quota_wait(source, r.resume_at);
    case upstream::result_kind::key_refused:
      throw domain_error(errc::upstream_failed, r.error);
    default:
      throw domain_error(errc::upstream_failed, what + " failed: " + r.error);
  }
}

std::optional<step_result> sync_engine::check_account(db::connection_source& source,
                                                      upstream::cancel_token& token) {
  auto a = upstream_.account(job_.account_id, token);
  auto id = std::to_string(job_.account_id);
  if (a.kind == upstream::result_kind::not_found)
    throw domain_error(errc::upstream_failed, "OpenDota knows no account " + id);
  if (auto settled = settle(source, a, "looking up account " + id))
    return settled;
  auto profile = a.data.find("profile");
  if (profile != a.data.end() && profile->is_object() &&
      profile->value("fh_unavailable", false))
    throw domain_error(
      errc::upstream_failed,
      "OpenDota cannot read the match history of account " + id +
        ": the profile's match data is private. In Dota 2, open Settings, Options, "
        "Social and turn on \"Expose Public Match Data\"; once OpenDota has seen "
        "a match played with it on, sync again");
  return std::nullopt;
}

step_result sync_engine::list_step(db::connection_source& source,
                                   upstream::cancel_token& token) {
  auto offset = static_cast<int>(job_.list_offset);
  // A full sync lists the whole history in one answer (SPEC §2: at most 2
  // list requests, a second only after a restart) and commits it a page's
  // worth per step; an incremental lists pages until the known part.
  listing_pages::page page;
  if (job_.type == job_type::full_sync) {
    if (!whole_) {
      // Text, never a tree of the whole (listing_pages.hpp).
      auto all = upstream_.whole_history(job_.account_id, token);
      if (auto settled = settle(source, all, "listing the match history"))
        return *settled;
      whole_.emplace(all.text);
    }
    page = whole_->page_at(static_cast<std::size_t>(offset),
                           static_cast<std::size_t>(settings_.page_size));
  } else {
    auto listed = upstream_.list_matches(job_.account_id, settings_.page_size, offset, token);
    if (auto settled =
          settle(source, listed, "listing matches at offset " + std::to_string(offset)))
      return *settled;
    page.rows = listed.data.size();
    page.ids = listed_ids(listed.data);
    page.text = listed.data.dump();
  }
  // An empty history may be a private or unknown account (both list []):
  // asked once, where the listing begins.
  if (offset == 0 && page.rows == 0)
    if (auto settled = check_account(source, token))
      return *settled;
  auto& ids = page.ids;
  auto& summaries = page.text;
  if (token.cancelled())
    return step_result::cancelled;  // no commit, so no wait for a connection

  bool backfill_due = false;
  source.with_connection([&](pqxx::connection& conn) {
    backfill_due = false;  // a retried commit decides again
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
      backfill_due = backfill_check_due(job_.type, ids, settings_.page_size, mark);
      if (auto raised = raised_mark(mark, next.list_top_match_id))
        db::sync_state_store::raise_complete_through(tx, job_.account_id, *raised);
      next.phase = "details";
      next.detail_cursor.reset();
      whole_.reset();
      // Details another account's sync fetched are taken, not fetched
      // (SPEC §3, one fetch per match), and are not part of what is left.
      db::match_store::adopt_shared_details(tx, job_.account_id, job_.id);
      next.total_matches = db::match_store::count_below(
        tx, job_.account_id, std::nullopt, details_only_lacking(job_.type), job_.id);
      next.processed_matches = 0;
    } else {
      next.list_offset = offset + static_cast<std::int64_t>(ids.size());
    }
    commit_as(tx, next);
  });
  check_backfill_ = backfill_due;
  return step_result::more;
}

step_result sync_engine::backfill_step(db::connection_source& source,
                                       upstream::cancel_token& token) {
  std::int64_t stored = 0;
  source.with_connection([&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    stored = db::match_store::count_below(tx, job_.account_id, std::nullopt, false);
  });
  // What cannot be asked now is asked by the next incremental: a failed
  // check never fails the job. The day spent waits, then asks again.
  auto wl = upstream_.win_loss(job_.account_id, token);
  add_stats(wl.stats);
  switch (wl.kind) {
    case upstream::result_kind::cancelled: return step_result::cancelled;
    case upstream::result_kind::daily_limit: return quota_wait(source, wl.resume_at);
    case upstream::result_kind::key_refused: throw domain_error(errc::upstream_failed, wl.error);
    default: break;
  }
  check_backfill_ = false;
  if (!wl.ok() || !wl.data.is_object())
    return step_result::more;
  auto count = [&](const char* key) -> std::optional<std::int64_t> {
    auto it = wl.data.find(key);
    if (it == wl.data.end() || !it->is_number_integer())
      return std::nullopt;
    return it->get<std::int64_t>();
  };
  auto upstream_size = history_size_of(count("win"), count("lose"));
  if (!upstream_size || !backfill_listing_due(*upstream_size, stored))
    return step_result::more;
  auto all = upstream_.list_matches(job_.account_id, 0, 0, token);
  add_stats(all.stats);
  switch (all.kind) {
    case upstream::result_kind::ok: break;
    case upstream::result_kind::cancelled: return step_result::cancelled;
    case upstream::result_kind::daily_limit:
      check_backfill_ = true;
      return quota_wait(source, all.resume_at);
    case upstream::result_kind::key_refused: throw domain_error(errc::upstream_failed, all.error);
    default: return step_result::more;
  }
  auto summaries = all.data.dump();
  all.data = nullptr;
  if (token.cancelled())
    return step_result::cancelled;
  // One statement: rows already stored and unchanged are not written; the
  // new ones (the backfill) lack details, which this job's details phase
  // fetches next.
  source.with_connection([&](pqxx::connection& conn) {
    sync_job next = job_;
    pqxx::work tx(conn);
    auto counts = db::match_store::upsert_summaries(tx, job_.account_id, job_.id, summaries);
    next.new_matches += counts.inserted;
    next.updated_matches += counts.updated;
    db::match_store::adopt_shared_details(tx, job_.account_id, job_.id);
    next.total_matches = db::match_store::count_below(tx, job_.account_id, std::nullopt, true);
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
  std::int64_t adopted = 0;
  source.with_connection([&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    // Another job (another account's) may have fetched some of this step's
    // window since the phase began: taken, not fetched, counted as
    // processed, and the window read again. Only the window is looked at:
    // every step scanning all that still lacks details was quadratic.
    auto read_window = [&] {
      return db::match_store::ids_below(tx, job_.account_id, job_.detail_cursor,
                                        details_only_lacking(job_.type),
                                        static_cast<int>(2 * batch_size), job_.id);
    };
    window = read_window();
    adopted = static_cast<std::int64_t>(
      db::match_store::adopt_shared_details(tx, job_.account_id, job_.id, &window).size());
    if (adopted > 0)
      window = read_window();
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
  std::vector<std::int64_t> ids(
    window.begin(), window.begin() + static_cast<std::ptrdiff_t>(std::min(batch_size, window.size())));

  // Fetched by the step before, unless what lacks details changed since.
  std::vector<upstream::detail_result> results;
  if (!ahead_ids_.empty() && ahead_ids_.size() <= ids.size() &&
      std::equal(ahead_ids_.begin(), ahead_ids_.end(), ids.begin())) {
    ids = std::move(ahead_ids_);
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
    if (r.kind == upstream::result_kind::key_refused)
      throw domain_error(errc::upstream_failed, r.error);
  // The day spent: what was fetched before the first refused request is
  // committed (its quota is spent and would be spent again), the rest of
  // the batch waits for the next day. Answers after it (other lanes) are
  // dropped: the cursor only moves over an unbroken prefix.
  std::optional<std::optional<std::chrono::system_clock::duration>> day_spent;
  for (std::size_t k = 0; k < results.size(); ++k)
    if (results[k].kind == upstream::result_kind::daily_limit) {
      day_spent = results[k].resume_at;
      ids.resize(k);
      results.resize(k);
      break;
    }
  if (day_spent && ids.empty())
    return quota_wait(source, *day_spent);
  // A batch the client cut by bytes (http_client_options::batch_bytes)
  // answers `cancelled` for the ids it did not ask, the token uncancelled:
  // what was fetched is committed, the rest is the next batch's.
  if (!token.cancelled()) {
    std::size_t asked = 0;
    while (asked < results.size() && results[asked].kind != upstream::result_kind::cancelled)
      ++asked;
    if (asked == 0)
      return step_result::more;  // nothing asked: the next step asks again
    ids.resize(asked);
    results.resize(asked);
  }
  // The next batch starts where this one ends (a cut one too).
  std::vector<std::int64_t> next;
  if (!day_spent)
    next.assign(window.begin() + static_cast<std::ptrdiff_t>(ids.size()),
                window.begin() + static_cast<std::ptrdiff_t>(
                                   std::min(window.size(), ids.size() + batch_size)));

  std::vector<db::detail_write> batch;
  batch.reserve(ids.size());
  std::int64_t failed = 0;
  std::int64_t repaired = 0;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    auto& r = results[k];
    switch (r.kind) {
      case upstream::result_kind::ok:
        repaired += r.repaired_escapes > 0 ? 1 : 0;
        batch.emplace_back(ids[k], db::detail_outcome::fetched, std::move(r.text));
        batch.back().fingerprint =
          static_cast<std::int64_t>(detail_fingerprint(batch.back().json));
        break;
      case upstream::result_kind::not_found:
        batch.emplace_back(ids[k], db::detail_outcome::none);
        break;
      case upstream::result_kind::failed:
        batch.emplace_back(ids[k], db::detail_outcome::failed);
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
    next_job.repaired_matches += repaired;
    next_job.processed_matches += static_cast<std::int64_t>(batch.size()) + adopted;
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
  if (day_spent)
    return quota_wait(source, *day_spent);
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
  p.repaired_matches = job.repaired_matches;
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
  job_.resume_at.reset();  // a commit ends a quota wait (update_progress)
}

step_result sync_engine::quota_wait(db::connection_source& source,
                                    std::optional<std::chrono::system_clock::duration> resume_at) {
  // Without the time (never from our clients), the upstream's own day: 00:00 UTC.
  auto until = resume_at ? *resume_at
                         : upstream::next_quota_day(
                             std::chrono::system_clock::now().time_since_epoch(), 0);
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(until).count();
  std::optional<sync_job> row;
  source.with_connection([&](pqxx::connection& conn) {
    row = db::job_store(conn).wait_quota(fence_, seconds, settings_.lease_s);
  });
  if (!row)
    throw_fenced(job_);
  job_.resume_at = row->resume_at;
  resume_at_ = until;
  return step_result::waiting_quota;
}

void sync_engine::add_stats(const upstream::request_stats& s) {
  stats_.requests += s.requests;
  stats_.statuses.insert(stats_.statuses.end(), s.statuses.begin(), s.statuses.end());
  stats_.rate_limited += s.rate_limited;
  stats_.budget_wait += s.budget_wait;
  stats_.backoff_wait += s.backoff_wait;
  stats_.repaired_details += s.repaired_details;
}

upstream::request_stats sync_engine::take_stats() {
  upstream::request_stats out;
  std::swap(out, stats_);
  return out;
}

}  // namespace matchsync::sync
