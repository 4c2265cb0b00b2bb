#include "actors/node_session_rules.hpp"

namespace matchsync {

void node_session_rules::assigned(std::int64_t job_id, std::int64_t user_id) {
  jobs_[job_id] = user_id;
}

const char* node_session_rules::check_report(std::int64_t job_id, std::int64_t user_id) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end())
    return "job not owned by this node";
  if (it->second != user_id)
    return "job belongs to another user";
  return nullptr;
}

const char* node_session_rules::release(std::int64_t job_id) {
  if (jobs_.erase(job_id) == 0)
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

}  // namespace matchsync
