// membership alone: runs (job, attempt) per node, the current owner of a job,
// slots, and silent nodes.
#define BOOST_TEST_MODULE membership
#include <boost/test/unit_test.hpp>

#include "actors/membership.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {
const auto t0 = membership::clock::time_point{} + 1h;
}

BOOST_AUTO_TEST_CASE(a_takeover_on_the_same_node_is_tracked_under_its_new_attempt) {
  membership m;
  BOOST_REQUIRE(m.add("a", 2, t0));
  m.assign("a", {7, 1});
  m.assign("a", {7, 2});  // the lease ran out while a lived: taken over there
  // Both runs take a slot until the old one has stopped.
  BOOST_TEST(m.find("a")->free() == 0);
  BOOST_TEST(m.owner_of(7)->run.attempt == 2);
  // The old run's release frees its slot and leaves the new run the owner.
  BOOST_TEST(m.release({7, 1}));
  BOOST_TEST(m.find("a")->free() == 1);
  BOOST_REQUIRE(m.owner_of(7));
  BOOST_TEST(m.owner_of(7)->run.attempt == 2);
  BOOST_TEST(m.job_ids("a") == std::vector<std::int64_t>{7});
  BOOST_TEST(m.release({7, 2}));
  BOOST_TEST(!m.owner_of(7));
  BOOST_TEST(!m.running(7));
  BOOST_TEST(!m.release({7, 2}));  // once
}

BOOST_AUTO_TEST_CASE(a_late_assignment_of_an_older_run_never_displaces_the_newer) {
  membership m;
  m.add("a", 4, t0);
  m.add("b", 4, t0);
  m.assign("b", {7, 3});
  m.assign("a", {7, 2});
  BOOST_TEST(m.owner_of(7)->node == "b");
  BOOST_TEST(m.owner_of(7)->run.attempt == 3);
}

BOOST_AUTO_TEST_CASE(removing_a_node_returns_its_runs_and_keeps_other_owners) {
  membership m;
  m.add("a", 4, t0);
  m.add("b", 4, t0);
  m.assign("a", {1, 1});
  m.assign("a", {2, 1});
  m.assign("b", {2, 2});
  auto runs = m.remove("a");
  BOOST_TEST(runs.size() == 2u);
  BOOST_TEST(!m.running(1));
  BOOST_TEST(m.owner_of(2)->node == "b");
  BOOST_TEST(!m.find("a"));
  BOOST_TEST(!m.touch("a", t0));
  BOOST_TEST(m.add("a", 4, t0));  // it may join again
}

BOOST_AUTO_TEST_CASE(nodes_silent_past_the_timeout_are_named) {
  membership m;
  m.add("a", 1, t0);
  m.add("b", 1, t0);
  BOOST_TEST(m.touch("b", t0 + 4s));
  auto silent = m.silent(t0 + 5s + 1ms, 5s);
  BOOST_TEST(silent == std::vector<std::string>{"a"});
  BOOST_TEST(m.silent(t0 + 5s, 5s).empty());
  // A sign of life from the past does not move last_seen back.
  m.touch("b", t0);
  BOOST_TEST(m.silent(t0 + 9s, 5s) == std::vector<std::string>{"a"});
}

BOOST_AUTO_TEST_CASE(the_node_with_most_free_slots_is_picked) {
  membership m;
  m.add("a", 2, t0);
  m.add("b", 3, t0);
  std::string name;
  BOOST_REQUIRE(m.pick(&name));
  BOOST_TEST(name == "b");
  m.assign("b", {1, 1});
  m.assign("b", {2, 1});
  m.find("a")->starting = 2;
  BOOST_REQUIRE(m.pick(&name));
  BOOST_TEST(name == "b");
  m.assign("b", {3, 1});
  BOOST_TEST(!m.pick(&name));
}

BOOST_AUTO_TEST_CASE(a_run_parked_in_a_quota_wait_holds_no_slot) {
  membership m;
  m.add("a", 1, t0);
  m.assign("a", {1, 1});
  std::string name;
  BOOST_TEST(!m.pick(&name));
  BOOST_TEST(!m.park({2, 1}, true));  // not a run of this cluster
  BOOST_TEST(!m.pick(&name));
  BOOST_TEST(m.park({1, 1}, true));
  BOOST_TEST(!m.park({1, 1}, true));  // parked already: no slot freed again
  BOOST_REQUIRE(m.pick(&name));
  BOOST_TEST(name == "a");
  m.assign("a", {3, 1});
  BOOST_TEST(!m.pick(&name));
  BOOST_TEST(m.find("a")->free() == 0);
  // It goes on: the node runs one job beyond its slots until one ends.
  BOOST_TEST(!m.park({1, 1}, false));
  BOOST_TEST(m.find("a")->free() == -1);
  BOOST_TEST(!m.pick(&name));
  // Released while parked: forgotten as a parked run too.
  BOOST_TEST(m.park({1, 1}, true));
  BOOST_TEST(m.release({1, 1}));
  BOOST_TEST(m.find("a")->parked.empty());
  BOOST_TEST(m.find("a")->free() == 0);
}

BOOST_AUTO_TEST_CASE(parked_runs_free_at_most_the_nodes_slots_and_only_a_current_run_parks) {
  membership m;
  m.add("a", 2, t0);
  std::string name;
  // Jobs started into a spent day park at once: 2 slots, 4 runs at most.
  for (std::int64_t job = 1; job <= 4; ++job) {
    BOOST_REQUIRE(m.pick(&name));
    m.assign("a", {job, 1});
    bool freed = m.park({job, 1}, true);
    BOOST_TEST(freed == (job <= 2));
  }
  BOOST_TEST(m.find("a")->free() == 0);
  BOOST_TEST(!m.pick(&name));
  // A takeover: the older run's report parks nothing.
  m.assign("a", {1, 2});
  BOOST_TEST(!m.park({1, 1}, false));
  BOOST_TEST(m.find("a")->parked.count({1, 1}) == 1u);
  BOOST_TEST(!m.park({7, 1}, true));
}
