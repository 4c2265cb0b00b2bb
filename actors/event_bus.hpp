// Job changes fanned out to live listeners (the /sync/events streams), and
// each user's active job as those changes tell it (GET /sync/status). The
// coordinator publishes; each HTTP stream thread waits on its own queue. Free
// of CAF so a blocking HTTP thread can wait on it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include "core/job_wait.hpp"
#include "core/sync_job.hpp"

namespace matchsync {

class event_bus;

/// What a listener hears: a job's changed row, or a wait holding it back.
using bus_event = std::variant<sync_job, job_wait>;

/// One listener: the changes of one user's jobs, in order.
class job_listener {
public:
  /// The next event, or nullopt when `timeout` passed or the bus closed.
  std::optional<bus_event> next(std::chrono::milliseconds timeout);
  bool closed() const;

private:
  friend class event_bus;
  explicit job_listener(std::int64_t user_id) : user_id_(user_id) {}
  void push(bus_event event);
  void close();

  std::int64_t user_id_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<bus_event> queue_;
  bool closed_ = false;
};

/// What the published changes say of one user's active job.
struct active_view {
  /// The user's pending or running job as last heard of; null: none.
  std::shared_ptr<const sync_job> job;
  /// The highest id of the user's jobs seen ending. A user's jobs run one
  /// after another, so every job up to it has ended: later news of them
  /// is stale.
  std::int64_t ended_up_to = 0;
  /// False until a change or a database read said which job is active.
  bool known = false;
};

/// Folds one change of a user's job into `view`. Changes may come late
/// (a progress report queued behind a cancel, a zombie attempt) or twice:
/// a job that ended stays ended, an older job never replaces a newer one,
/// and a job goes back neither from running to pending nor to an earlier
/// attempt.
void apply_change(active_view& view, const sync_job& change);

/// Each user's active job, kept current by the published changes, so that
/// reading it costs no database round trip. A user the board has not
/// heard of is read from the database once (through the caller's loader);
/// a user's entry is confirmed from the database again when older than
/// `max_age`, which bounds how long a lost change (a node that died after
/// its final write) can mislead. A change that arrives while a read is in
/// flight wins over the read.
class active_jobs {
public:
  using clock = std::chrono::steady_clock;
  /// Reads the user's active job from the database; may throw.
  using loader = std::function<std::optional<sync_job>()>;

  explicit active_jobs(std::chrono::milliseconds max_age = std::chrono::seconds(5));

  void apply(const sync_job& change);
  /// The user's active job (null: none). Calls `load` when the board does
  /// not know or must confirm; while one caller confirms, the others are
  /// answered from memory, and so is everyone when the read fails.
  std::shared_ptr<const sync_job> get(std::int64_t user_id, const loader& load,
                                      clock::time_point now = clock::now());

private:
  struct entry {
    active_view view;
    std::uint64_t version = 0;  // changes applied so far
    clock::time_point confirmed{};
    bool confirming = false;
  };
  std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, entry> users_;  // never erased: references stay valid
};

class event_bus {
public:
  /// A listener for `user_id`'s jobs; unsubscribe it when done.
  std::shared_ptr<job_listener> subscribe(std::int64_t user_id);
  void unsubscribe(const std::shared_ptr<job_listener>& l);
  /// Records a change on the board, then delivers it to the listeners of
  /// the job's user (never blocks on a slow listener: a listener that falls
  /// 256 changes behind is closed). A job's final row is delivered once: it
  /// may be published twice (a cancel's answer and the job actor's last
  /// word both carry it), and a terminal row never changes.
  void publish(const sync_job& job);
  /// Delivers a wait to the listeners of its user (the board is unchanged).
  void publish_wait(const job_wait& wait);
  /// Records a row read back that is no change (so listeners get nothing),
  /// e.g. the final row a refused cancel found.
  void note(const sync_job& job) { board_.apply(job); }
  /// Wakes and closes every listener (shutdown).
  void close_all();
  std::size_t listeners() const;
  /// Each user's active job (GET /sync/status).
  active_jobs& board() { return board_; }

private:
  /// True the first time `job_id`'s final row is seen (under mutex_). The
  /// last `ended_kept` ids are kept: a repeat comes within milliseconds.
  bool first_end(std::int64_t job_id);
  static constexpr std::size_t ended_kept = 4096;

  mutable std::mutex mutex_;
  std::set<std::shared_ptr<job_listener>> listeners_;
  std::unordered_set<std::int64_t> ended_;
  std::deque<std::int64_t> ended_order_;
  active_jobs board_;
};

}  // namespace matchsync
