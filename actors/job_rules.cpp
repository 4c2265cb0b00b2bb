#include "actors/job_rules.hpp"

namespace matchsync {

namespace {
constexpr int state_count = 5;
constexpr int event_count = 5;
using S = job_status;
constexpr std::optional<job_status> none = std::nullopt;

// rules[state][event]; columns: start, cancel, complete, fail, lose_owner.
const std::optional<job_status> rules[state_count][event_count] = {
  /* pending   */ {S::running, S::cancelled, none, S::failed, none},
  /* running   */ {none, S::cancelled, S::completed, S::failed, S::running},
  /* completed */ {none, none, none, none, none},
  /* failed    */ {none, none, none, none, none},
  /* cancelled */ {none, none, none, none, none},
};
}  // namespace

const char* to_string(job_event e) {
  switch (e) {
    case job_event::start: return "start";
    case job_event::cancel: return "cancel";
    case job_event::complete: return "complete";
    case job_event::fail: return "fail";
    case job_event::lose_owner: return "lose_owner";
  }
  return "unknown";
}

std::optional<job_status> next_status(job_status current, job_event event) {
  return rules[static_cast<int>(current)][static_cast<int>(event)];
}

}  // namespace matchsync
