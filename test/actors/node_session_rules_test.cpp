// What a joined node may say (node_session_rules), without CAF.
#define BOOST_TEST_MODULE node_session_rules
#include <boost/test/unit_test.hpp>

#include <string>

#include "actors/node_session_rules.hpp"

using matchsync::job_run;
using matchsync::node_session_rules;

namespace {
// A refusal's reason as text; a pass (nullptr) reads "(passed)", so that a
// check that should refuse fails as a comparison, not as a throw.
std::string reason(const char* why) { return why ? why : "(passed)"; }
}  // namespace

BOOST_AUTO_TEST_CASE(a_node_reports_only_jobs_handed_to_it_as_their_user) {
  node_session_rules r;
  BOOST_TEST(reason(r.check_report(7, 1)) == "job not owned by this node");
  r.assigned({7, 1}, 1);
  BOOST_TEST(r.check_report(7, 1) == nullptr);
  BOOST_TEST(reason(r.check_report(7, 2)) == "job belongs to another user");
  BOOST_TEST(r.check_report(8, 1) != nullptr);
}

// A progress row parks its run and frees the slot counted for it: a node
// that still holds run 1 of a job taken over elsewhere (run 2) may not send
// run 2's row; holding both (a takeover on the same node), it may.
BOOST_AUTO_TEST_CASE(a_progress_row_comes_only_from_the_node_holding_that_very_run) {
  node_session_rules r;
  BOOST_TEST(reason(r.check_run_report({7, 1}, 1)) == "job not owned by this node");
  r.assigned({7, 1}, 1);
  BOOST_TEST(r.check_run_report({7, 1}, 1) == nullptr);
  BOOST_TEST(reason(r.check_run_report({7, 2}, 1)) == "run not held by this node");
  BOOST_TEST(r.check_report(7, 1) == nullptr);  // its final row still passes
  BOOST_TEST(reason(r.check_run_report({7, 1}, 2)) == "job belongs to another user");
  r.assigned({7, 2}, 1);
  BOOST_TEST(r.check_run_report({7, 2}, 1) == nullptr);
  BOOST_TEST(r.release({7, 1}) == nullptr);
  BOOST_TEST(r.check_run_report({7, 1}, 1) != nullptr);
  BOOST_TEST(r.check_run_report({7, 2}, 1) == nullptr);
}

BOOST_AUTO_TEST_CASE(a_node_releases_a_job_once_and_reports_it_no_more) {
  node_session_rules r;
  BOOST_TEST(r.release({7, 1}) != nullptr);
  r.assigned({7, 1}, 1);
  BOOST_TEST(r.release({7, 1}) == nullptr);
  BOOST_TEST(r.release({7, 1}) != nullptr);
  BOOST_TEST(r.check_report(7, 1) != nullptr);
}

BOOST_AUTO_TEST_CASE(budget_only_while_running_a_job_in_range_and_one_request_at_a_time) {
  node_session_rules r;
  BOOST_TEST(reason(r.ask_budget(2)) == "budget asked by a node without jobs");
  r.assigned({7, 1}, 1);
  BOOST_TEST(r.ask_budget(0) != nullptr);
  BOOST_TEST(r.ask_budget(node_session_rules::max_budget_request + 1) != nullptr);
  BOOST_TEST(r.ask_budget(2) == nullptr);
  BOOST_TEST(reason(r.ask_budget(2)) == "budget asked while a request is in flight");
  r.budget_answered();
  BOOST_TEST(r.ask_budget(node_session_rules::max_budget_request) == nullptr);
  r.budget_answered();
  BOOST_TEST(r.release({7, 1}) == nullptr);
  BOOST_TEST(r.ask_budget(2) != nullptr);
}

// A spent upstream minute: told only by a node that runs a job (one without
// made no request), and passed on once per clock minute, however often.
BOOST_AUTO_TEST_CASE(a_spent_minute_is_told_by_a_node_with_jobs_and_passed_on_once_a_minute) {
  node_session_rules r;
  bool forward = true;
  BOOST_TEST(reason(r.hold_minute(100, forward)) ==
             "spent minute told by a node without jobs");
  BOOST_TEST(!forward);
  r.assigned({7, 1}, 1);
  BOOST_TEST(r.hold_minute(100, forward) == nullptr);
  BOOST_TEST(forward);
  BOOST_TEST(r.hold_minute(100, forward) == nullptr);
  BOOST_TEST(!forward);
  BOOST_TEST(r.hold_minute(101, forward) == nullptr);
  BOOST_TEST(forward);
  BOOST_TEST(r.release({7, 1}) == nullptr);
  BOOST_TEST(r.hold_minute(102, forward) != nullptr);
  BOOST_TEST(!forward);
}

// A lease request naming a job: only one of the node's own, and whether it
// goes ahead as small is what the coordinator recorded, whatever the node
// would say.
BOOST_AUTO_TEST_CASE(budget_for_a_job_only_for_its_own_and_small_as_recorded) {
  node_session_rules r;
  r.assigned({7, 1}, 1, true);
  r.assigned({8, 1}, 2, false);
  bool small = false;
  BOOST_TEST(reason(r.ask_budget_for(9, 2, small)) ==
             "budget asked for a job not owned by this node");
  BOOST_TEST(r.ask_budget_for(7, 2, small) == nullptr);
  BOOST_TEST(small);
  BOOST_TEST(reason(r.ask_budget_for(8, 2, small)) ==
             "budget asked while a request is in flight");
  r.budget_answered();
  BOOST_TEST(r.ask_budget_for(8, 2, small) == nullptr);
  BOOST_TEST(!small);
  r.budget_answered();
  BOOST_TEST(r.release({7, 1}) == nullptr);
  BOOST_TEST(r.ask_budget_for(7, 2, small) != nullptr);
}

// A takeover on the same node: the node holds runs 1 and 2 of job 7 for a
// moment. Releasing the stopped run 1 keeps run 2's reports and release.
BOOST_AUTO_TEST_CASE(releasing_an_older_run_keeps_the_newer_runs_rights) {
  node_session_rules r;
  r.assigned({7, 1}, 1);
  r.assigned({7, 2}, 1);
  BOOST_TEST(r.release({7, 1}) == nullptr);
  BOOST_TEST(r.check_report(7, 1) == nullptr);
  BOOST_TEST(r.release({7, 1}) != nullptr);
  BOOST_TEST(r.release({7, 3}) != nullptr);
  BOOST_TEST(r.release({7, 2}) == nullptr);
  BOOST_TEST(r.check_report(7, 1) != nullptr);
}
