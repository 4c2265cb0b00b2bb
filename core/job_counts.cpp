#include "core/job_counts.hpp"

#include <algorithm>

namespace matchsync {

namespace {

constexpr job_type all_types[] = {job_type::incremental_sync, job_type::full_sync};
constexpr job_status all_statuses[] = {job_status::pending, job_status::running,
                                       job_status::completed, job_status::failed,
                                       job_status::cancelled};

}  // namespace

std::int64_t& job_counts::at(job_type t, job_status s) {
  return counts_[static_cast<int>(t)][static_cast<int>(s)];
}

void job_counts::remember_end(std::int64_t id) {
  if (!ended_.insert(id).second)
    return;
  ended_order_.push_back(id);
  if (ended_order_.size() > ended_kept) {
    ended_.erase(ended_order_.front());
    ended_order_.pop_front();
  }
}

void job_counts::load(const std::vector<job_count>& totals,
                      const std::vector<sync_job>& active) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto t : all_types)
    for (auto s : all_statuses)
      at(t, s) = 0;
  for (auto& c : totals)
    at(c.type, c.status) += c.n;
  active_.clear();
  ended_.clear();
  ended_order_.clear();
  for (auto& j : active)
    if (!is_terminal(j.status))
      active_[j.id] = active_job{j.type, j.status};
  loaded_ = true;
}

void job_counts::apply(const sync_job& row) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!loaded_)
    return;
  auto it = active_.find(row.id);
  if (it == active_.end()) {
    // A job never heard of is new only when it is pending; anything else
    // is a late word about a job that ended (here, or before the load).
    if (row.status != job_status::pending || ended_.count(row.id) > 0)
      return;
    active_[row.id] = active_job{row.type, row.status};
    ++at(row.type, row.status);
    return;
  }
  auto& known = it->second;
  if (row.status == known.status)
    return;
  if (known.status == job_status::running && row.status == job_status::pending)
    return;  // a stale row from before the start
  auto& from = at(known.type, known.status);
  from = std::max<std::int64_t>(0, from - 1);
  ++at(known.type, row.status);
  if (is_terminal(row.status)) {
    active_.erase(it);
    remember_end(row.id);
  } else {
    known.status = row.status;
  }
}

void job_counts::removed(const std::vector<job_count>& gone) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!loaded_)
    return;
  for (auto& c : gone) {
    auto& n = at(c.type, c.status);
    n = std::max<std::int64_t>(0, n - c.n);
  }
}

std::vector<std::int64_t> job_counts::running_ids() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::int64_t> out;
  for (auto& [id, j] : active_)
    if (j.status == job_status::running)
      out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

bool job_counts::loaded() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loaded_;
}

std::vector<job_count> job_counts::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<job_count> out;
  if (!loaded_)
    return out;
  for (auto t : all_types)
    for (auto s : all_statuses)
      out.push_back(job_count{t, s, counts_[static_cast<int>(t)][static_cast<int>(s)]});
  return out;
}

}  // namespace matchsync
