#include "actors/node_session_rules.hpp"

#include <cstdint>

namespace matchsync {

void node_session_rules::assigned(job_run run, std::int64_t user_id, bool small) {
  jobs_[run] = run_info{user_id, small};
}

const char* node_session_rules::check_report(std::int64_t job_id, std::int64_t user_id) const {
  // Runs of one job sort together, lowest attempt first.
  auto it = jobs_.lower_bound(job_run{job_id, INT32_MIN});
  if (it == jobs_.end() || it->first.job_id != job_id)
    return "job not owned by this node";
  if (it->second.user_id != user_id)
    return "job belongs to another user";
  return nullptr;
}

const char* node_session_rules::check_run_report(job_run run, std::int64_t user_id) const {
  auto it = jobs_.find(run);
  if (it == jobs_.end())
    return check_report(run.job_id, user_id) ? "job not owned by this node"
                                             : "run not held by this node";
  if (it->second.user_id != user_id)
    return "job belongs to another user";
  return nullptr;
}

const char* node_session_rules::release(job_run run) {
  if (jobs_.erase(run) == 0)
    return "job not owned by this node";
  return nullptr;
}

const char* node_session_rules::ask_budget(std::int32_t count) {
  if (count < 1 || count > max_budget_request)
    return "budget request out of range";
  if (jobs_.empty())
    return "budget asked by a node without jobs";
  if (budget_in_flight_)
    return "budget asked while a request is in flight";
  budget_in_flight_ = true;
  return nullptr;
}

const char* node_session_rules::ask_budget_for(std::int64_t job_id, std::int32_t count,
                                               bool& small) {
  auto it = jobs_.lower_bound(job_run{job_id, INT32_MIN});
  if (it == jobs_.end() || it->first.job_id != job_id)
    return "budget asked for a job not owned by this node";
  small = it->second.small;
  return ask_budget(count);
}

const char* node_session_rules::hold_minute(std::int64_t clock_minute, bool& forward) {
  forward = false;
  if (jobs_.empty())
    return "spent minute told by a node without jobs";
  forward = clock_minute != held_minute_;
  held_minute_ = clock_minute;
  return nullptr;
}

}  // namespace matchsync
