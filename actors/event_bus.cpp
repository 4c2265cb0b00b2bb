#include "actors/event_bus.hpp"

namespace matchsync {

namespace {
constexpr std::size_t max_backlog = 256;

int rank(job_status s) { return s == job_status::pending ? 0 : 1; }
}  // namespace

std::optional<bus_event> job_listener::next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return closed_ || !queue_.empty(); });
  if (queue_.empty())
    return std::nullopt;
  auto event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

bool job_listener::closed() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return closed_;
}

void job_listener::push(bus_event event) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (closed_)
      return;
    if (queue_.size() >= max_backlog) {
      closed_ = true;
      queue_.clear();
    } else {
      queue_.push_back(std::move(event));
    }
  }
  changed_.notify_all();
}

void job_listener::close() {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

void apply_change(active_view& view, const sync_job& change) {
  if (change.id <= view.ended_up_to)
    return;
  auto& current = view.job;
  if (is_terminal(change.status)) {
    view.ended_up_to = change.id;
    if (current && current->id <= change.id)
      current.reset();
    // Still unknown if it was: the change says nothing of the user's
    // other jobs.
    return;
  }
  if (current && current->id > change.id)
    return;
  if (current && current->id == change.id &&
      (rank(change.status) < rank(current->status) ||
       (rank(change.status) == rank(current->status) && change.attempt < current->attempt)))
    return;
  current = std::make_shared<const sync_job>(change);
  view.known = true;  // at most one active job per user: this is it
}

active_jobs::active_jobs(std::chrono::milliseconds max_age) : max_age_(max_age) {}

void active_jobs::apply(const sync_job& change) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto& e = users_[change.user_id];
  ++e.version;
  apply_change(e.view, change);
}

std::shared_ptr<const sync_job> active_jobs::get(std::int64_t user_id, const loader& load,
                                                 clock::time_point now) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto& e = users_[user_id];
  bool known = e.view.known;
  if (known && (e.confirming || now - e.confirmed < max_age_))
    return e.view.job;
  auto version = e.version;
  if (known)
    e.confirming = true;
  lock.unlock();
  std::optional<sync_job> row;
  try {
    row = load();
  } catch (...) {
    lock.lock();
    if (!known)
      throw;
    e.confirming = false;
    return e.view.job;  // the coordinator's word beats no answer
  }
  lock.lock();
  if (known)
    e.confirming = false;
  if (e.version == version) {
    // Every change so far committed before this read began: the read is
    // at least as new as the board.
    e.view.job = row ? std::make_shared<const sync_job>(std::move(*row)) : nullptr;
    e.view.known = true;
    e.confirmed = now;
  } else if (!e.view.known) {
    // Changes came meanwhile, not enough to know: the read overlapped
    // them, so its answer is as right as any for this request.
    return row ? std::make_shared<const sync_job>(std::move(*row)) : nullptr;
  }
  return e.view.job;
}

std::shared_ptr<job_listener> event_bus::subscribe(std::int64_t user_id) {
  std::shared_ptr<job_listener> l(new job_listener(user_id));
  std::lock_guard<std::mutex> guard(mutex_);
  listeners_.insert(l);
  return l;
}

void event_bus::unsubscribe(const std::shared_ptr<job_listener>& l) {
  std::lock_guard<std::mutex> guard(mutex_);
  listeners_.erase(l);
}

void event_bus::publish(const sync_job& job) {
  // The board first: a client that saw the event finds it in /sync/status.
  board_.apply(job);
  std::lock_guard<std::mutex> guard(mutex_);
  if (is_terminal(job.status) && !first_end(job.id))
    return;
  for (auto& l : listeners_)
    if (l->user_id_ == job.user_id)
      l->push(job);
}

bool event_bus::first_end(std::int64_t job_id) {
  if (!ended_.insert(job_id).second)
    return false;
  ended_order_.push_back(job_id);
  if (ended_order_.size() > ended_kept) {
    ended_.erase(ended_order_.front());
    ended_order_.pop_front();
  }
  return true;
}

void event_bus::publish_wait(const job_wait& wait) {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& l : listeners_)
    if (l->user_id_ == wait.user_id)
      l->push(wait);
}

void event_bus::close_all() {
  std::lock_guard<std::mutex> guard(mutex_);
  for (auto& l : listeners_)
    l->close();
}

std::size_t event_bus::listeners() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return listeners_.size();
}

}  // namespace matchsync
