// What a joined remote node may say, free of CAF: the jobs the coordinator
// handed to that node (its own records, fed by the `run` messages it sent
// through the node's session) and the checks every message from the node
// passes before the coordinator sees it. A node reports and releases only
// its own jobs, as the user they belong to, and asks budget only while it
// runs a job, one request at a time. Runs are (job, attempt) pairs: a
// takeover on the same node hands it a later run of a job it still stops,
// and releasing the older run must not take the newer one's rights.
#pragma once

#include <cstdint>
#include <map>

#include "core/job_run.hpp"

namespace matchsync {

class node_session_rules {
public:
  /// The coordinator handed run `run` of a job of `user_id` to this node.
  void assigned(job_run run, std::int64_t user_id);

  /// nullptr when the node may report a row (progress, finished, wait) of
  /// `job_id` for `user_id` (it holds a run of that job); else why not.
  const char* check_report(std::int64_t job_id, std::int64_t user_id) const;

  /// nullptr when the node may release `run` (it is then no longer the
  /// node's); else why not.
  const char* release(job_run run);

  /// nullptr when the node may ask for `count` budget slots now (the request
  /// is then in flight until budget_answered); else why not.
  const char* ask_budget(std::int32_t count);
  void budget_answered() { budget_in_flight_ = false; }

  /// Slots one request may ask at most (the coordinator's own cap).
  static constexpr std::int32_t max_budget_request = 16;

  std::size_t jobs() const { return jobs_.size(); }

private:
  std::map<job_run, std::int64_t> jobs_;  // run -> user id
  bool budget_in_flight_ = false;
};

}  // namespace matchsync
