// What a joined remote node may say, free of CAF: the jobs the coordinator
// handed to that node (its own records, fed by the `run` messages it sent
// through the node's session) and the checks every message from the node
// passes before the coordinator sees it. A node reports and releases only
// its own jobs, as the user they belong to, and asks budget only while it
// runs a job, one request at a time, and for a job only when it is its own
// (whether that job goes ahead as small is the coordinator's record, not
// the node's word). Runs are (job, attempt) pairs: a
// takeover on the same node hands it a later run of a job it still stops,
// and releasing the older run must not take the newer one's rights.
#pragma once

#include <cstdint>
#include <map>

#include "core/job_run.hpp"

namespace matchsync {

class node_session_rules {
public:
  /// The coordinator handed run `run` of a job of `user_id` to this node;
  /// `small`: an incremental, whose first requests go ahead (fair_share).
  void assigned(job_run run, std::int64_t user_id, bool small = false);

  /// nullptr when the node may report a row (progress, finished, wait) of
  /// `job_id` for `user_id` (it holds a run of that job); else why not.
  const char* check_report(std::int64_t job_id, std::int64_t user_id) const;

  /// As check_report, for a progress row of run `run`: the node must hold
  /// that very run. A progress row parks its run in a quota wait and frees
  /// the slot the coordinator counts for it (membership::park), so a node
  /// that still holds an older run of a job taken over elsewhere must not
  /// speak for the newer one. (A job actor's rows carry its own attempt:
  /// every write it makes is fenced by it. Finished rows and waits keep the
  /// job check: a node may read a job's final row after another run ended
  /// it.)
  const char* check_run_report(job_run run, std::int64_t user_id) const;

  /// nullptr when the node may release `run` (it is then no longer the
  /// node's); else why not.
  const char* release(job_run run);

  /// nullptr when the node may ask for `count` budget slots now (the request
  /// is then in flight until budget_answered); else why not.
  const char* ask_budget(std::int32_t count);
  void budget_answered() { budget_in_flight_ = false; }

  /// As ask_budget, for the job `job_id`, which must be one the node holds a
  /// run of; `small` is then set from the coordinator's record of it.
  const char* ask_budget_for(std::int64_t job_id, std::int32_t count, bool& small);

  /// nullptr when the node may say the upstream's minute is spent (it runs
  /// a job; a node without one made no request); else why not. `forward` is
  /// false when it said so already for `clock_minute` (minutes since the
  /// epoch): that hold stands, and a node cannot make the coordinator log
  /// or work more by repeating it.
  const char* hold_minute(std::int64_t clock_minute, bool& forward);

  /// Slots one request may ask at most (the coordinator's own cap).
  static constexpr std::int32_t max_budget_request = 16;

  std::size_t jobs() const { return jobs_.size(); }

private:
  struct run_info {
    std::int64_t user_id;
    bool small;
  };
  std::map<job_run, run_info> jobs_;
  bool budget_in_flight_ = false;
  std::int64_t held_minute_ = -1;  // the clock minute last held, -1 none
};

}  // namespace matchsync
