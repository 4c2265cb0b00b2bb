#define BOOST_TEST_MODULE job_rules
#include <boost/test/unit_test.hpp>

#include <map>

#include "actors/job_rules.hpp"

using namespace matchsync;

BOOST_AUTO_TEST_SUITE(job_rules)

BOOST_AUTO_TEST_CASE(every_state_and_event_pair_matches_the_contract) {
  using S = job_status;
  using E = job_event;
  // SPEC §3, written out pair by pair; anything not listed is refused.
  const std::map<std::pair<S, E>, S> allowed = {
    {{S::pending, E::start}, S::running},
    {{S::pending, E::cancel}, S::cancelled},
    {{S::pending, E::fail}, S::failed},
    {{S::running, E::cancel}, S::cancelled},
    {{S::running, E::complete}, S::completed},
    {{S::running, E::fail}, S::failed},
    {{S::running, E::lose_owner}, S::running},
  };
  int pairs = 0;
  for (auto s : all_job_statuses) {
    for (auto e : all_job_events) {
      ++pairs;
      auto it = allowed.find({s, e});
      auto got = next_status(s, e);
      BOOST_TEST_CONTEXT(to_string(s) << " + " << to_string(e)) {
        BOOST_TEST(got.has_value() == (it != allowed.end()));
        if (got && it != allowed.end())
          BOOST_TEST(*got == it->second);
      }
    }
  }
  BOOST_TEST(pairs == 25);
}

BOOST_AUTO_TEST_CASE(only_pending_or_running_jobs_can_be_cancelled) {
  BOOST_TEST(can_cancel(job_status::pending));
  BOOST_TEST(can_cancel(job_status::running));
  BOOST_TEST(!can_cancel(job_status::completed));
  BOOST_TEST(!can_cancel(job_status::failed));
  BOOST_TEST(!can_cancel(job_status::cancelled));
}

BOOST_AUTO_TEST_CASE(terminal_states_refuse_every_event) {
  for (auto s : all_job_statuses)
    if (is_terminal(s))
      for (auto e : all_job_events)
        BOOST_TEST(!next_status(s, e).has_value());
}

BOOST_AUTO_TEST_CASE(a_scheduled_job_gives_way_to_its_users_trigger_only_while_idle) {
  sync_job j;
  j.triggered_by = job_trigger::schedule;
  j.status = job_status::pending;
  BOOST_TEST(gives_way_to_user_trigger(j));
  j.status = job_status::running;  // working: keeps its place
  BOOST_TEST(!gives_way_to_user_trigger(j));
  j.resume_at = "2026-12-05T00:00:00Z";  // parked in a quota wait
  BOOST_TEST(gives_way_to_user_trigger(j));
  for (auto s : {job_status::completed, job_status::failed, job_status::cancelled}) {
    j.status = s;
    BOOST_TEST(!gives_way_to_user_trigger(j));
  }
  // A job the user started never gives way to another of theirs.
  j.triggered_by = job_trigger::user;
  for (auto s : {job_status::pending, job_status::running}) {
    j.status = s;
    BOOST_TEST(!gives_way_to_user_trigger(j));
  }
}

BOOST_AUTO_TEST_SUITE_END()
