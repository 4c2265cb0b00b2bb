// Scale-out in real processes: a coordinator (`serve`) and worker nodes
// (`worker`) on loopback over CAF, one PostgreSQL, the fake OpenDota.
#define BOOST_TEST_MODULE cluster
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <csignal>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "persistence/job_store.hpp"
#include "persistence/user_store.hpp"
#include "test/fake_opendota/fake_server.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"
#include "test/support/sanitizer.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

const std::int64_t default_account = 999;

struct cluster {
  explicit cluster(const std::string& db, int rate = 0)
    : url(test::fresh_database(db)), rate(rate) {
    fake.set_detail_size(500);
  }

  std::map<std::string, std::string> env(const std::string& node, int slots) {
    return {{"MATCHSYNC_DATABASE_URL", url},
            {"MATCHSYNC_UPSTREAM_URL", fake.url()},
            {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", std::to_string(rate)},
            {"MATCHSYNC_UPSTREAM_DAILY_LIMIT", "0"},
            {"MATCHSYNC_UPSTREAM_PAGE_SIZE", "20"},
            {"MATCHSYNC_UPSTREAM_BACKOFF_BASE_MS", "20"},
            {"MATCHSYNC_HTTP_PORT", "0"},
            {"MATCHSYNC_CLUSTER_PORT", std::to_string(cluster_port)},
            {"MATCHSYNC_CLUSTER_SECRET", "s3cret"},
            {"MATCHSYNC_JOB_LEASE_S", "3"},
            {"MATCHSYNC_SLOTS", std::to_string(slots)},
            {"MATCHSYNC_AUTH", "none"},
            {"MATCHSYNC_DEFAULT_ACCOUNT_ID", std::to_string(default_account)},
            {"MATCHSYNC_NODE_ID", node}};
  }

  void start_coordinator(int slots = 0) {
    coordinator = std::make_unique<test::child_process>(
      std::vector<std::string>{test::binary_path("app/matchsync"), "serve"},
      env("coord", slots));
    BOOST_REQUIRE_MESSAGE(coordinator->wait_for_output("listening url=", 30s),
                          coordinator->output());
    std::smatch m;
    auto out = coordinator->output();
    BOOST_REQUIRE(std::regex_search(out, m, std::regex("127\\.0\\.0\\.1:(\\d+)/")));
    http_port = std::stoi(m[1]);
    BOOST_REQUIRE(std::regex_search(out, m, std::regex("cluster listening .*port=(\\d+)")));
    cluster_port = std::stoi(m[1]);
  }

  std::unique_ptr<test::child_process> start_worker(const std::string& node, int slots,
                                                    const std::string& secret = "s3cret") {
    auto e = env(node, slots);
    e["MATCHSYNC_CLUSTER_SECRET"] = secret;
    e.erase("MATCHSYNC_AUTH");
    return std::make_unique<test::child_process>(
      std::vector<std::string>{test::binary_path("app/matchsync"), "worker",
                               "--coordinator", "127.0.0.1:" + std::to_string(cluster_port)},
      e);
  }

  nlohmann::json get(const std::string& path) {
    httplib::Client cli("127.0.0.1", http_port);
    auto r = cli.Get(path);
    if (!r || r->status != 200)
      return nullptr;
    return nlohmann::json::parse(r->body, nullptr, false);
  }

  std::set<std::string> workers() {
    std::set<std::string> out;
    auto w = get("/workers");
    if (w.is_array())
      for (auto& n : w)
        out.insert(n["node"].get<std::string>());
    return out;
  }

  std::int64_t pending_job(std::int64_t account, job_type type = job_type::full_sync) {
    pqxx::connection c(url);
    auto user = db::user_store(c).ensure(account);
    return db::job_store(c).create(user.id, account, type).id;
  }

  sync_job row(std::int64_t id) {
    pqxx::connection c(url);
    return *db::job_store(c).find(id);
  }

  bool all_terminal(const std::vector<std::int64_t>& ids) {
    pqxx::connection c(url);
    db::job_store jobs(c);
    for (auto id : ids)
      if (!is_terminal(jobs.find(id)->status))
        return false;
    return true;
  }

  // Waits until every job of `ids` has processed `n` matches.
  bool wait_progressed(const std::vector<std::int64_t>& ids, std::int64_t n) {
    return test::wait_until(
      [&] {
        for (auto id : ids)
          if (row(id).processed_matches < n)
            return false;
        return true;
      },
      60s);
  }

  void check_complete(std::int64_t account) {
    auto expected = fake.history(account).size();
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params1("SELECT count(*), count(*) FILTER (WHERE details_state = "
                             "'fetched') FROM matches WHERE account_id = $1", account);
    BOOST_TEST(r[0].as<std::size_t>() == expected);
    BOOST_TEST(r[1].as<std::size_t>() == expected);
  }

  test::fake_opendota fake;
  std::string url;
  // 0 until the first coordinator chose one (a port probed free and closed
  // could be taken by a parallel test before the coordinator binds it); a
  // restarted coordinator takes it again, as a real one would.
  int cluster_port = 0;
  int rate;
  int http_port = 0;
  std::unique_ptr<test::child_process> coordinator;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_nodes)

BOOST_AUTO_TEST_CASE(jobs_of_a_coordinator_without_slots_run_on_both_workers) {
  cluster c("cluster_spread");
  c.fake.set_latency(5);
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 4), w2 = c.start_worker("w2", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().size() == 3; }, 30s));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(c.pending_job(100 + i));
  BOOST_REQUIRE(test::wait_until([&] { return c.all_terminal(ids); }, 120s));
  std::set<std::string> nodes;
  for (auto id : ids) {
    auto j = c.row(id);
    BOOST_TEST(j.status == job_status::completed);
    nodes.insert(j.node.value_or(""));
  }
  BOOST_TEST((nodes == std::set<std::string>{"w1", "w2"}));
  for (int i = 0; i < 20; ++i)
    c.check_complete(100 + i);
  auto listed = c.get("/workers");
  BOOST_REQUIRE(listed.is_array());
  for (auto& n : listed) {
    BOOST_TEST(n.contains("connected_at"));
    BOOST_TEST(n.contains("last_seen"));
    BOOST_TEST(n["local"].get<bool>() == (n["node"] == "coord"));
  }
}

BOOST_AUTO_TEST_CASE(a_worker_with_a_wrong_secret_is_refused_and_never_listed) {
  cluster c("cluster_secret");
  c.start_coordinator(0);
  auto bad = c.start_worker("intruder", 4, "guess");
  int status = bad->wait_exit(30s);
  BOOST_TEST(status == 2);
  BOOST_TEST(bad->output().find("refused") != std::string::npos);
  // The worker found out first (the coordinator's proof did not match its
  // secret) and never sent a proof of its own to an unproven coordinator.
  BOOST_TEST(bad->output().find("could not prove the cluster secret") != std::string::npos);
  BOOST_TEST(c.coordinator->output().find("wrong cluster secret") == std::string::npos);
  BOOST_TEST(c.workers().count("intruder") == 0u);
  BOOST_TEST(c.workers().count("coord") == 1u);
}

BOOST_AUTO_TEST_CASE(jobs_of_a_killed_worker_complete_on_the_other) {
  cluster c("cluster_kill_worker");
  // 900 matches each at 30 ms: long enough that they are still running
  // on w1 when w2 has joined and w1 is killed.
  c.fake.set_latency(30);
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w1") == 1; }, 30s));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(c.pending_job(900 + i));
  BOOST_REQUIRE(c.wait_progressed(ids, 5));
  auto w2 = c.start_worker("w2", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w2") == 1; }, 30s));
  for (auto id : ids)
    BOOST_REQUIRE(c.row(id).status == job_status::running);
  w1->signal(SIGKILL);
  BOOST_REQUIRE(test::wait_until([&] { return c.all_terminal(ids); }, 120s));
  for (int i = 0; i < 4; ++i) {
    auto j = c.row(ids[i]);
    BOOST_TEST(j.status == job_status::completed);
    BOOST_TEST(*j.node == "w2");
    c.check_complete(900 + i);
  }
  BOOST_TEST(c.workers().count("w1") == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancel_of_a_job_on_a_worker_is_bounded_and_final) {
  cluster c("cluster_cancel");
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w1") == 1; }, 30s));
  c.fake.set_latency(5000);
  auto id = c.pending_job(default_account);
  BOOST_REQUIRE(c.fake.wait_for_requests("/api/players/999/matches", 1, 30s));
  httplib::Client cli("127.0.0.1", c.http_port);
  auto t0 = std::chrono::steady_clock::now();
  auto r = cli.Post("/sync/cancel/" + std::to_string(id), "", "application/json");
  auto took = std::chrono::steady_clock::now() - t0;
  auto after = c.fake.log().size();
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 200);
  auto body = nlohmann::json::parse(r->body);
  BOOST_TEST(body["status"] == "cancelled");
  BOOST_TEST(body["error_message"] == "Cancelled by user");
  BOOST_TEST((took < 2000ms));
  BOOST_REQUIRE(test::wait_until(
    [&] { return c.get("/workers").dump().find("[" + std::to_string(id) + "]") == std::string::npos; },
    10s));
  auto final_row = c.row(id);
  BOOST_TEST(final_row.status == job_status::cancelled);
  BOOST_TEST(*final_row.completed_at == body["completed_at"].get<std::string>());
  std::size_t late = 0;
  for (auto& l : c.fake.log(after))
    if (l.path.find("/999/") != std::string::npos || l.path.rfind("/api/matches/999", 0) == 0)
      ++late;
  BOOST_TEST(late == 0u);
}

BOOST_AUTO_TEST_CASE(two_workers_share_one_cluster_budget) {
  cluster c("cluster_budget", 120);
  c.fake.set_detail_size(200);
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 4), w2 = c.start_worker("w2", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().size() == 3; }, 30s));
  for (int i = 0; i < 8; ++i)
    c.pending_job(300 + i);
  BOOST_REQUIRE(c.fake.wait_for_requests(".*", 1, 30s));
  auto start_seq = c.fake.log().size();
  BOOST_REQUIRE(c.fake.wait_for_requests(".*", start_seq + 31, 40s));
  auto log = c.fake.log();
  std::vector<double> t;
  for (auto& l : log)
    t.push_back(l.t_ms);
  std::sort(t.begin(), t.end());
  // In any window of T seconds at most 2T + 1 requests start (120/min). The
  // times are arrivals at the fake, not budget grants: a slot's lease answer
  // and the request itself each cross a loaded machine, so two grants 500 ms
  // apart can arrive closer (114 ms closer seen under AddressSanitizer).
  // 250 ms of that jitter is tolerated, 500 ms (one interval) under a
  // sanitizer: two arrivals 182 and 239 ms apart were seen under TSan beside
  // the ASan suite, and 1.9 ms apart under ASan beside the TSan build (cc23,
  // session 14): with the lease queue each slot is lent on its own, as a
  // delay from the answer's arrival, so one answer slowed by an interval in
  // transit puts its slot on the next one's. The check still fails without
  // the shared budget (the 8 slots start back to back) and with a budget per
  // worker (two workers at 120/min each put 8-9 starts in any 2 s; 6 are
  // allowed in 2 s even with 500 ms).
  const double jitter_s = test::sanitizer_slowdown > 1 ? 0.5 : 0.25;
  int worst_excess = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    for (std::size_t j = i; j < t.size(); ++j) {
      double window_s = (t[j] - t[i]) / 1000.0 + jitter_s;
      int allowed = static_cast<int>(2 * window_s) + 1;
      int excess = static_cast<int>(j - i + 1) - allowed;
      if (excess > worst_excess)
        BOOST_TEST_MESSAGE("window " << t[i] << ".." << t[j] << " ms holds " << (j - i + 1)
                                     << " starts, allowed " << allowed);
      worst_excess = std::max(worst_excess, excess);
    }
  BOOST_TEST(worst_excess <= 0);
  BOOST_TEST(t.size() >= 31u);
}

BOOST_AUTO_TEST_CASE(after_a_coordinator_restart_no_job_stays_running_without_owner) {
  cluster c("cluster_coord_restart");
  c.fake.set_latency(10);
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w1") == 1; }, 30s));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(c.pending_job(400 + i));
  BOOST_REQUIRE(test::wait_until([&] { return c.row(ids[0]).processed_matches >= 5; }, 60s));
  c.coordinator->signal(SIGKILL);
  c.coordinator->wait_exit(10s);
  c.start_coordinator(0);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w1") == 1; }, 60s));
  BOOST_REQUIRE(test::wait_until([&] { return c.all_terminal(ids); }, 120s));
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(c.row(ids[i]).status == job_status::completed);
    c.check_complete(400 + i);
  }
}

// Leases and liveness (issue 14): a lease belongs to a (job, attempt), a
// planned handover is no lost owner, a silent node is dropped.

BOOST_AUTO_TEST_CASE(three_graceful_restarts_of_the_node_running_a_full_sync_end_completed) {
  cluster c("cluster_graceful_restarts");
  c.fake.set_latency(30);
  c.start_coordinator(0);
  auto id = c.pending_job(900);
  std::int32_t attempt = 0;
  for (int restart = 0; restart < 3; ++restart) {
    auto w1 = c.start_worker("w1", 4);  // the same name every time
    BOOST_REQUIRE(test::wait_until(
      [&] {
        auto j = c.row(id);
        return j.status == job_status::running && j.attempt > attempt && j.node == "w1" &&
               j.processed_matches > 0;
      },
      60s));
    auto before = c.row(id);
    BOOST_REQUIRE(test::wait_until(
      [&] { return c.row(id).processed_matches > before.processed_matches; }, 30s));
    attempt = c.row(id).attempt;
    w1->signal(SIGTERM);
    BOOST_REQUIRE_EQUAL(w1->wait_exit(30s), 0);
    BOOST_TEST_MESSAGE("restart " << restart + 1 << " at attempt " << attempt);
  }
  auto w1 = c.start_worker("w1", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.all_terminal({id}); }, 120s));
  auto j = c.row(id);
  BOOST_TEST(j.status == job_status::completed);
  BOOST_TEST(j.attempt == 4);  // job_max_attempts is 3: handovers are not lost owners
  c.check_complete(900);
}

BOOST_AUTO_TEST_CASE(a_stopped_worker_is_dropped_its_jobs_finish_elsewhere_and_it_rejoins) {
  cluster c("cluster_sigstop");
  c.fake.set_latency(30);
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w1") == 1; }, 30s));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(c.pending_job(900 + i));
  BOOST_REQUIRE(c.wait_progressed(ids, 5));
  auto w2 = c.start_worker("w2", 4);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().count("w2") == 1; }, 30s));
  std::map<std::int64_t, std::int32_t> frozen_attempt;
  for (auto id : ids) {
    auto j = c.row(id);
    BOOST_REQUIRE(j.status == job_status::running && j.node == "w1");
    frozen_attempt[id] = j.attempt;
  }
  // Frozen: no FIN, no RST, its connection stays open.
  w1->signal(SIGSTOP);
  auto frozen_at = std::chrono::steady_clock::now();
  // Node timeout (3 s, the lease) + lease (3 s), and one reclaim period.
  const auto bound = 3s + 3s + 2s;
  BOOST_TEST(test::wait_until([&] { return c.workers().count("w1") == 0; }, bound));
  BOOST_REQUIRE(test::wait_until(
    [&] {
      for (auto id : ids) {
        auto j = c.row(id);
        if (!(j.status == job_status::completed ||
              (j.status == job_status::running && j.node == "w2")))
          return false;
      }
      return true;
    },
    bound));
  BOOST_TEST_MESSAGE("jobs moved after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - frozen_at).count() << " ms");
  w1->signal(SIGCONT);
  // It joins again by itself, or leaves cleanly.
  BOOST_REQUIRE(test::wait_until(
    [&] { return c.workers().count("w1") == 1 || !w1->running(); }, 30s));
  BOOST_REQUIRE(test::wait_until([&] { return c.all_terminal(ids); }, 120s));
  for (int i = 0; i < 3; ++i) {
    auto j = c.row(ids[i]);
    BOOST_TEST(j.status == job_status::completed);
    // The frozen run never wrote again: the job ended under a later run.
    BOOST_TEST(j.attempt > frozen_attempt[ids[i]]);
    c.check_complete(900 + i);
  }
  if (!w1->running())
    BOOST_TEST(w1->wait_exit(1s) == 0);
}

BOOST_AUTO_TEST_CASE(after_a_coordinator_kill9_no_job_of_two_workers_stalls_past_three_leases) {
  cluster c("cluster_coord_kill_two");
  c.fake.set_latency(30);
  c.start_coordinator(0);
  auto w1 = c.start_worker("w1", 2), w2 = c.start_worker("w2", 2);
  BOOST_REQUIRE(test::wait_until([&] { return c.workers().size() == 3; }, 30s));
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(c.pending_job(900 + i));
  BOOST_REQUIRE(test::wait_until(
    [&] {
      std::set<std::string> nodes;
      for (auto id : ids) {
        auto j = c.row(id);
        if (j.processed_matches < 5)
          return false;
        nodes.insert(j.node.value_or(""));
      }
      return nodes == std::set<std::string>{"w1", "w2"};
    },
    60s));
  c.coordinator->signal(SIGKILL);
  c.coordinator->wait_exit(10s);
  c.start_coordinator(0);
  // Every running job makes progress within 3 leases (9 s), until all end.
  const auto stall_limit = 9s;
  std::map<std::int64_t, std::pair<std::int64_t, std::chrono::steady_clock::time_point>> seen;
  auto now = std::chrono::steady_clock::now();
  for (auto id : ids)
    seen[id] = {c.row(id).processed_matches, now};
  std::chrono::milliseconds worst{0};
  bool all_done = test::wait_until(
    [&] {
      auto t = std::chrono::steady_clock::now();
      bool done = true;
      for (auto id : ids) {
        auto j = c.row(id);
        if (is_terminal(j.status))
          continue;
        done = false;
        auto& [processed, since] = seen[id];
        if (j.processed_matches != processed)
          seen[id] = {j.processed_matches, t};
        worst = std::max(worst,
                         std::chrono::duration_cast<std::chrono::milliseconds>(t - since));
      }
      return done || worst > stall_limit;
    },
    120s);
  BOOST_TEST_MESSAGE("longest stall " << worst.count() << " ms");
  BOOST_TEST((worst <= stall_limit));
  BOOST_REQUIRE(all_done);
  BOOST_REQUIRE(c.all_terminal(ids));
  for (int i = 0; i < 4; ++i) {
    BOOST_TEST(c.row(ids[i]).status == job_status::completed);
    c.check_complete(900 + i);
  }
}

BOOST_AUTO_TEST_SUITE_END()
