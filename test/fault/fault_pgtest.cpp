// Fault injection with real processes: `matchsync serve` and `worker`, real
// PostgreSQL, the fake OpenDota. Each suite is one scenario and one ctest
// entry; each ends with the same check (fault_harness.hpp): every upstream
// match stored once with details, no job running without a live owner, every
// terminal job unchanged since it ended.
#define BOOST_TEST_MODULE fault
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <csignal>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include <pqxx/pqxx>

#include "test/fault/fault_harness.hpp"
#include "test/fault/tcp_proxy.hpp"
#include "test/support/pg_fixture.hpp"

using namespace matchsync::test;
using namespace matchsync::test::fault;
using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

bool is_terminal(const json& row) {
  auto s = row.value("status", std::string());
  return s == "completed" || s == "failed" || s == "cancelled";
}

// A row's field, or a default while the database is away.
json field_or(const std::string& db_url, std::int64_t id, const char* key, json fallback) {
  try {
    auto r = job_row(db_url, id);
    return r.is_object() ? r.value(key, fallback) : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

// An answer's JSON object, or an empty one: fields are read with value().
json as_object(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

int ready_status(int port) {
  return http_get(port, "/ready").status;
}

std::set<std::string> connected_nodes(int port) {
  std::set<std::string> out;
  auto w = http_get(port, "/workers");
  if (w.status == 200 && w.body.is_array())
    for (auto& n : w.body)
      out.insert(n.value("node", std::string()));
  return out;
}

std::string summary_of_jobs(const std::string& db_url) {
  pqxx::connection c(db_url);
  pqxx::nontransaction tx(c);
  std::string out;
  for (auto r : tx.exec("SELECT status::text, count(*), max(attempt), sum(failed_matches) "
                        "FROM sync_jobs GROUP BY 1 ORDER BY 1"))
    out += (out.empty() ? "" : ", ") + r[0].as<std::string>() + " " +
           r[1].as<std::string>() + " (max attempt " + r[2].as<std::string>() +
           ", failed details " + r[3].as<std::string>() + ")";
  return "jobs: " + out;
}

void require_all_completed(const std::string& db_url, const std::vector<std::int64_t>& ids) {
  for (auto id : ids) {
    auto r = job_row(db_url, id);
    BOOST_TEST(r.value("status", std::string()) == "completed",
               "job " << id << " ended " << r.dump());
  }
}

}  // namespace

// kill -9 of serve at 20 points of a long full sync, drawn from a fixed seed;
// each time a new serve (new node id) starts, takes the orphaned job over
// once its 1 s lease has run out, and resumes it from its last committed page.
BOOST_AUTO_TEST_SUITE(serve_kill9)

BOOST_AUTO_TEST_CASE(a_full_sync_survives_twenty_kill9_of_serve_at_random_points) {
  auto started = steady::now();
  fake_opendota fake;
  fake.set_detail_size(300);
  fake.set_latency(1);
  const std::int64_t account = 7001;
  fake.set_history_size(account, 800);
  auto url = fresh_database("fault_serve_kill9");
  install_terminal_audit(url);

  auto env_for = [&](const std::string& node) {
    auto env = node_env(url, fake.url(), node);
    env["MATCHSYNC_AUTH"] = "none";
    env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = std::to_string(account);
    return env;
  };
  std::mt19937_64 rng(20261128);
  std::uniform_int_distribution<int> run_ms(30, 700);
  std::vector<std::int64_t> jobs;
  int kills = 0, kills_mid_job = 0;
  // From a kill to the next serve owning the job: the job's time without a
  // live owner (includes the next serve's start). SPEC §4 bounds it by the
  // lease once a live node is there: `beyond` is how long after both the
  // lease ran out and the next serve listened the job was still unowned.
  double worst_orphan_s = 0, worst_beyond_s = 0;
  const auto lease = 1s;  // MATCHSYNC_JOB_LEASE_S of node_env
  std::optional<steady::time_point> killed_at;
  for (int round = 0; round < 20; ++round) {
    auto node = "kill9-" + std::to_string(round);
    auto serve = start_serve(env_for(node));
    auto listening_at = steady::now();
    if (jobs.empty() || is_terminal(job_row(url, jobs.back()))) {
      auto t = http_post(serve.http_port, "/sync/trigger", R"({"job_type":"full_sync"})");
      BOOST_REQUIRE_MESSAGE(t.status == 201, "trigger answered " << t.status << " "
                                                                 << t.body.dump());
      jobs.push_back(t.body.at("id").get<std::int64_t>());
    }
    auto job = jobs.back();
    // The kill point is measured from the moment this node owns the job.
    BOOST_REQUIRE_MESSAGE(wait_until(
                            [&] {
                              auto r = job_row(url, job);
                              return is_terminal(r) ||
                                     (r["status"] == "running" && r["node"] == node);
                            },
                            30s),
                          "round " << round << ": job " << job << " never ran on " << node
                                   << ": " << job_row(url, job).dump());
    if (killed_at) {
      auto owned_at = steady::now();
      worst_orphan_s = std::max(
        worst_orphan_s, std::chrono::duration<double>(owned_at - *killed_at).count());
      worst_beyond_s = std::max(
        worst_beyond_s,
        std::chrono::duration<double>(owned_at - std::max(listening_at, *killed_at + lease))
          .count());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms(rng)));
    serve.process->signal(SIGKILL);
    BOOST_REQUIRE(serve.process->wait_exit(10s) >= 0);
    killed_at = steady::now();
    ++kills;
    auto r = job_row(url, job);
    if (r["status"] == "running" && r["node"] == node)
      ++kills_mid_job;
  }

  auto last = start_serve(env_for("kill9-final"));
  // Waited for before the message is made: the order in which a
  // macro's arguments are evaluated is unspecified.
  bool ended = wait_terminal(url, jobs, 120s);
  BOOST_REQUIRE_MESSAGE(ended, summary_of_jobs(url));
  require_all_completed(url, jobs);
  auto v = final_check(url, fake, {account}, {"kill9-final"}, 1);
  report("serve_kill9", kills, v, started,
         std::to_string(kills_mid_job) + " kills hit the running job; longest without owner " +
           std::to_string(worst_orphan_s).substr(0, 4) + " s (" +
           std::to_string(worst_beyond_s).substr(0, 4) + " s past the lease); " +
           summary_of_jobs(url));
  // The kills must hit a job at work, or the test proves nothing about
  // resuming: a kill between jobs (the previous one completed) counts too,
  // but most of the 20 must land mid-job.
  BOOST_TEST(kills_mid_job >= 15, kills_mid_job << " of " << kills << " kills hit the running job");
  // SPEC §4: no job runs without a live owner longer than the lease plus the
  // node timeout (the lease here). The reclaim round runs every lease / 3;
  // the rest is room for a loaded machine and a sanitizer build (1.93 s was
  // seen with the machine's load average at 15 on 2 cores).
  BOOST_TEST(worst_beyond_s < 3.0, "a job stayed without owner " << worst_beyond_s
                                                                  << " s past its lease");
  last.process->signal(SIGTERM);
  BOOST_TEST(last.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// PostgreSQL stopped (fast) and started mid-sync, then crashed (immediate)
// and started: serve stays up, /ready tells, the jobs finish.
BOOST_AUTO_TEST_SUITE(postgres_restart)

BOOST_AUTO_TEST_CASE(syncs_finish_after_postgres_is_stopped_and_crashed_mid_sync) {
  auto started = steady::now();
  private_cluster pg("postgres_restart");
  install_terminal_audit(pg.url());
  fake_opendota fake;
  fake.set_detail_size(300);
  fake.set_latency(2);
  const std::int64_t full = 7101, incremental = 7102;
  fake.set_history_size(full, 600);
  fake.set_history_size(incremental, 300);
  auto env = node_env(pg.url(), fake.url(), "pg-node");
  env["MATCHSYNC_AUTH"] = "none";
  env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = std::to_string(full);
  auto serve = start_serve(env);
  std::vector<std::int64_t> jobs{create_job(pg.url(), full, "full_sync"),
                                 create_job(pg.url(), incremental, "incremental_sync")};
  int faults = 0;
  for (const std::string mode : {"fast", "immediate"}) {
    // Mid-sync: the full sync has made progress and is still running.
    auto job = jobs.front();
    auto before = field_or(pg.url(), job, "processed_matches", 0).get<int>();
    BOOST_REQUIRE(wait_until(
      [&] {
        auto r = job_row(pg.url(), job);
        return is_terminal(r) || r.value("processed_matches", 0) >= before + 60;
      },
      60s));
    if (is_terminal(job_row(pg.url(), job))) {
      jobs.insert(jobs.begin(), create_job(pg.url(), full, "full_sync"));
      job = jobs.front();
      BOOST_REQUIRE(wait_until(
        [&] { return job_row(pg.url(), job).value("processed_matches", 0) >= 30; }, 60s));
    }
    BOOST_REQUIRE_MESSAGE(pg.stop(mode), "pg_ctl stop -m " << mode);
    ++faults;
    BOOST_TEST(wait_until([&] { return ready_status(serve.http_port) == 503; }, 20s),
               "/ready did not report the outage (-m " << mode << ")");
    BOOST_TEST(serve.process->running());
    BOOST_REQUIRE_MESSAGE(pg.start(), "pg_ctl start after -m " << mode);
    BOOST_TEST(wait_until([&] { return ready_status(serve.http_port) == 200; }, 30s),
               "/ready did not recover after -m " << mode);
  }
  bool ended = wait_terminal(pg.url(), jobs, 120s);
  BOOST_REQUIRE_MESSAGE(ended, summary_of_jobs(pg.url()));
  require_all_completed(pg.url(), jobs);
  BOOST_TEST(serve.process->running());
  auto v = final_check(pg.url(), fake, {full, incremental}, {"pg-node"}, 1);
  report("postgres_restart", faults, v, started, summary_of_jobs(pg.url()));
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// The upstream misbehaves in every way at once: 30 % 5xx, 429 bursts with
// Retry-After and one without, truncated bodies, connection resets. Details that
// exhaust their retries are fetched again by the next sync, so syncs are
// repeated (faults still on) until one leaves every account complete.
BOOST_AUTO_TEST_SUITE(upstream_chaos)

BOOST_AUTO_TEST_CASE(every_match_arrives_through_5xx_429_bursts_truncations_and_resets) {
  auto started = steady::now();
  fake_opendota fake;
  fake.set_detail_size(300);
  fake.set_latency(1);
  const std::vector<std::int64_t> accounts{7201, 7202, 7203, 7204};
  for (auto a : accounts)
    fake.set_history_size(a, 300);
  auto url = fresh_database("fault_upstream_chaos");
  install_terminal_audit(url);
  auto env = node_env(url, fake.url(), "chaos-node");
  env["MATCHSYNC_AUTH"] = "none";
  env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = std::to_string(accounts.front());
  auto serve = start_serve(env);

  auto with_retry_after = scripted_answer::too_many_requests(1);
  with_retry_after.times(3);
  // A 429 without Retry-After waits for the next clock minute (SPEC §2), so
  // the run has one, early, rather than a random number of minutes.
  fake.script("/api/matches/.*", {scripted_answer::too_many_requests(std::nullopt)});
  fake.set_random_faults({{0.10, scripted_answer::http_status(500)},
                          {0.10, scripted_answer::http_status(502)},
                          {0.10, scripted_answer::http_status(503)},
                          {0.003, with_retry_after},
                          {0.02, scripted_answer::truncated_body()},
                          {0.02, scripted_answer::connection_reset()}},
                         77);

  std::vector<std::int64_t> all_jobs;
  int rounds = 0;
  for (auto missing = accounts; !missing.empty() && rounds < 6; ++rounds) {
    std::vector<std::int64_t> jobs;
    for (auto a : missing)
      jobs.push_back(create_job(url, a, "incremental_sync"));
    all_jobs.insert(all_jobs.end(), jobs.begin(), jobs.end());
    bool ended = wait_terminal(url, jobs, 150s);
    BOOST_REQUIRE_MESSAGE(ended, summary_of_jobs(url));
    std::vector<std::int64_t> still;
    for (auto a : missing)
      if (final_check(url, fake, {a}, {"chaos-node"}, 1).lost > 0)
        still.push_back(a);
    missing = still;
  }
  auto faults = upstream_faults(fake);
  // Every kind of fault was really served, all in the same run.
  std::map<std::string, int> kinds;
  auto log = fake.control("GET", "/_control/log").at("requests");
  for (const auto& r : log) {
    auto status = r.at("status").get<int>();
    auto action = r.at("action").get<std::string>();
    if (action == "status" && status >= 500)
      ++kinds["5xx"];
    else if (action == "status" && status == 429)
      ++kinds[r.value("retry_after", "").empty() ? "429 without Retry-After"
                                                 : "429 with Retry-After"];
    else if (action != "pass")
      ++kinds[action];
  }
  std::string breakdown;
  for (auto* kind : {"5xx", "429 with Retry-After", "429 without Retry-After", "truncate",
                     "reset"}) {
    BOOST_TEST(kinds[kind] > 0, "no " << kind << " was served");
    breakdown += std::string(kind) + " " + std::to_string(kinds[kind]) + ", ";
  }
  std::int64_t requests = log.size();
  fake.set_random_faults({});
  auto v = final_check(url, fake, accounts, {"chaos-node"}, 1);
  report("upstream_chaos", faults, v, started,
         breakdown + "of " + std::to_string(requests) + " upstream requests; " +
           std::to_string(rounds) +
           " sync rounds; " + summary_of_jobs(url));
  // A failed job is allowed here (a list page may exhaust its retries), but
  // never for a reason other than the upstream.
  for (auto id : all_jobs) {
    auto r = job_row(url, id);
    if (r["status"] == "failed")
      BOOST_TEST(r.value("error_message", std::string()).find("GET ") != std::string::npos,
                 "job " << id << " failed: " << r.dump());
    else
      BOOST_TEST(r["status"] == "completed", "job " << id << ": " << r.dump());
  }
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// Two of three workers lost mid-job: one `kill -9`-ed, one cut off the
// network (its connections reset and its port closed by a relay) while the
// process lives on. Their jobs finish on the third worker.
BOOST_AUTO_TEST_SUITE(worker_loss)

BOOST_AUTO_TEST_CASE(jobs_of_a_killed_worker_and_a_cut_off_worker_finish_elsewhere) {
  auto started = steady::now();
  fake_opendota fake;
  fake.set_detail_size(300);
  // Jobs of a few seconds: long enough to be caught mid-job on two workers
  // at once (details come four at a time, the next batch during a commit).
  fake.set_latency(10);
  const std::vector<std::int64_t> accounts{7301, 7302, 7303, 7304, 7305, 7306};
  for (auto a : accounts)
    fake.set_history_size(a, 1000);
  auto url = fresh_database("fault_worker_loss");
  install_terminal_audit(url);
  auto env = [&](const std::string& node, int slots) {
    auto e = node_env(url, fake.url(), node);
    e["MATCHSYNC_SLOTS"] = std::to_string(slots);
    e["MATCHSYNC_CLUSTER_SECRET"] = "fault-s3cret";
    e["MATCHSYNC_AUTH"] = "none";
    e["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = std::to_string(accounts.front());
    return e;
  };
  auto coordinator = start_serve(env("coord", 0));
  BOOST_REQUIRE(coordinator.cluster_port > 0);
  tcp_proxy relay(coordinator.cluster_port);
  auto w1 = start_worker(env("w1", 2), coordinator.cluster_port);
  auto w2 = start_worker(env("w2", 2), relay.port());
  auto w3 = start_worker(env("w3", 2), coordinator.cluster_port);
  bool joined = wait_until(
    [&] {
      return connected_nodes(coordinator.http_port) ==
             std::set<std::string>{"coord", "w1", "w2", "w3"};
    },
    30s);
  if (!joined) {
    // Read first: passed straight to the macro, output() printed nothing
    // (one CI run failed here saying only "workers did not join:").
    std::string why = "connected:";
    for (auto& n : connected_nodes(coordinator.http_port))
      why += " " + n;
    for (auto* w : {w1.get(), w2.get(), w3.get()})
      why += "\n" + w->log_path() + ":\n" + w->output();
    BOOST_FAIL("workers did not join; " << why);
  }
  std::vector<std::int64_t> jobs;
  for (auto a : accounts)
    jobs.push_back(create_job(url, a, "full_sync"));

  // Mid-job: w1 and w2 each run a job that has made progress.
  auto busy_on = [&](const std::string& node) {
    for (auto id : jobs) {
      auto r = job_row(url, id);
      if (r["status"] == "running" && r["node"] == node && r.value("processed_matches", 0) >= 20)
        return true;
    }
    return false;
  };
  bool busy = wait_until([&] { return busy_on("w1") && busy_on("w2"); }, 60s);
  BOOST_REQUIRE_MESSAGE(busy, summary_of_jobs(url));
  w1->signal(SIGKILL);
  relay.cut();
  int faults = 2;
  bool ended = wait_terminal(url, jobs, 120s);
  BOOST_REQUIRE_MESSAGE(ended, summary_of_jobs(url));
  require_all_completed(url, jobs);
  int moved = 0;
  for (auto id : jobs) {
    auto r = job_row(url, id);
    BOOST_TEST(r["node"] == "w3", "job " << id << " ended on " << r["node"]);
    moved += r.value("attempt", 0) > 1 ? 1 : 0;
  }
  BOOST_TEST(w2->running(), "the cut-off worker should live on: " << w2->output());
  auto live = connected_nodes(coordinator.http_port);
  BOOST_TEST(live.count("w1") == 0u);
  BOOST_TEST(live.count("w2") == 0u);
  auto v = final_check(url, fake, accounts, live, 1);
  report("worker_loss", faults, v, started,
         std::to_string(moved) + " jobs resumed on another node; " + summary_of_jobs(url));
}

BOOST_AUTO_TEST_SUITE_END()

// A database cut longer than the lease while the job's owner lives: the
// coordinator takes the job over on the same node (attempt + 1). The old
// run's actor stops, the new one is tracked under its own attempt: one
// actor per job, a cancel answered only after the upstream stopped, slots
// right afterwards.
BOOST_AUTO_TEST_SUITE(same_node_takeover)

namespace {

// `url` with PostgreSQL reached over 127.0.0.1:`port` (the relay).
std::string via_port(const std::string& url, int port) {
  std::smatch m;
  std::regex_search(url, m, std::regex("dbname=(\\S+)"));
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=" +
         m[1].str();
}

int pg_port(const std::string& url) {
  std::smatch m;
  std::regex_search(url, m, std::regex("port=(\\d+)"));
  return std::stoi(m[1].str());
}

// Seconds the job's lease has left (negative once it ran out).
double lease_left(const std::string& url, std::int64_t id) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  return tx.exec_params1("SELECT coalesce(extract(epoch FROM lease_expires_at - now()), 0) "
                         "FROM sync_jobs WHERE id = $1", id)[0].as<double>();
}

// While held, the owner's writes that would revive an expired lease (its
// renewal, a step's commit) are dropped as if they reached the database after
// the coordinator's takeover: the race a same-node takeover needs is then
// decided, not left to which of the two the pool serves first once the
// database is back (in CI the renewal won six cuts in a row).
void install_owner_hold(const std::string& url) {
  pqxx::connection c(url);
  pqxx::work tx(c);
  tx.exec(R"sql(
    CREATE TABLE fault_owner_hold (held boolean NOT NULL);
    INSERT INTO fault_owner_hold VALUES (false);
    CREATE FUNCTION fault_owner_hold() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (SELECT held FROM fault_owner_hold) AND OLD.status = 'running'
         AND NEW.status = 'running' AND NEW.attempt = OLD.attempt
         AND OLD.lease_expires_at < now() AND NEW.lease_expires_at > now() THEN
        RETURN NULL;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER fault_owner_hold BEFORE UPDATE ON sync_jobs
      FOR EACH ROW EXECUTE FUNCTION fault_owner_hold();
  )sql");
  tx.commit();
}

void hold_owner(const std::string& url, bool held) {
  pqxx::connection c(url);
  pqxx::work tx(c);
  tx.exec_params("UPDATE fault_owner_hold SET held = $1", held);
  tx.commit();
}

// The serve's matchsync_running_jobs gauge (actors on its slots), or -1.
int running_actors(int http_port) {
  httplib::Client cli("127.0.0.1", http_port);
  auto r = cli.Get("/metrics");
  if (!r || r->status != 200)
    return -1;
  std::smatch m;
  if (!std::regex_search(r->body, m, std::regex("\nmatchsync_running_jobs (\\d+)")))
    return -1;
  return std::stoi(m[1].str());
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_takeover_on_the_same_node_leaves_one_actor_a_bounded_cancel_and_right_slots) {
  auto started = steady::now();
  fake_opendota fake;
  fake.set_detail_size(300);
  fake.set_latency(20);
  const std::int64_t account = 7501, next_a = 7502, next_b = 7503;
  for (auto a : {account, next_a, next_b})
    fake.set_history_size(a, 3000);
  auto url = fresh_database("fault_same_node_takeover");
  install_terminal_audit(url);
  install_owner_hold(url);
  tcp_proxy db(pg_port(url));
  auto env = node_env(via_port(url, db.port()), fake.url(), "solo");
  env["MATCHSYNC_SLOTS"] = "2";
  env["MATCHSYNC_AUTH"] = "none";
  env["MATCHSYNC_DEFAULT_ACCOUNT_ID"] = std::to_string(account);
  auto serve = start_serve(env);
  auto job = create_job(url, account, "full_sync");
  BOOST_REQUIRE(wait_until(
    [&] { return job_row(url, job).value("processed_matches", 0) >= 20; }, 60s));
  auto first = job_row(url, job).value("attempt", 0);
  // Cut the database past the lease (1 s); when it returns, the coordinator's
  // takeover wins over the owner's renewal (held back until then): a
  // takeover on the same node, the old actor still running.
  hold_owner(url, true);
  db.block();
  BOOST_REQUIRE(wait_until([&] { return lease_left(url, job) < -1.0; }, 10s));
  db.restore();
  bool taken = wait_until([&] { return job_row(url, job).value("attempt", 0) > first; }, 30s);
  hold_owner(url, false);
  const int cuts = 1;
  BOOST_REQUIRE(taken);
  auto row = job_row(url, job);
  BOOST_REQUIRE(row["status"] == "running");
  BOOST_TEST(row["node"] == "solo");
  // One actor for the job: the older run was stopped, the new one runs on.
  BOOST_TEST(wait_until([&] { return running_actors(serve.http_port) == 1; }, 10s),
             "running actors: " << running_actors(serve.http_port));
  BOOST_TEST(serve.process->output().find("stopping a superseded run") != std::string::npos);
  auto progressed = row.value("processed_matches", 0);
  BOOST_REQUIRE(wait_until(
    [&] { return job_row(url, job).value("processed_matches", 0) > progressed; }, 30s));
  // The cancel reaches the run that runs, and answers once it stopped.
  auto answer = http_post(serve.http_port, "/sync/cancel/" + std::to_string(job), "");
  auto after_answer = fake.log().size();
  BOOST_REQUIRE_EQUAL(answer.status, 200);
  BOOST_TEST(answer.body.value("status", std::string()) == "cancelled");
  // Slots: both free again, so two new jobs run at once.
  BOOST_TEST(wait_until([&] { return running_actors(serve.http_port) == 0; }, 10s));
  auto late = fake.log(after_answer).size();
  BOOST_TEST(late == 0u, late << " upstream requests after the cancel was answered");
  std::vector<std::int64_t> next{create_job(url, next_a, "incremental_sync"),
                                 create_job(url, next_b, "incremental_sync")};
  BOOST_TEST(wait_until(
    [&] {
      int running = 0;
      for (auto id : next) {
        auto r = job_row(url, id);
        running += r["status"] == "running" || r["status"] == "completed";
      }
      return running == 2;
    },
    20s));
  BOOST_REQUIRE(wait_terminal(url, next, 120s));
  require_all_completed(url, next);
  BOOST_TEST(job_row(url, job)["status"] == "cancelled");
  auto v = final_check(url, fake, {next_a, next_b}, {"solo"}, 1);
  report("same_node_takeover", cuts, v, started,
         "attempt " + std::to_string(first) + " -> " +
           std::to_string(job_row(url, job).value("attempt", 0)));
}

BOOST_AUTO_TEST_SUITE_END()

// 1,000 trigger/cancel pairs from 8 concurrent clients for 50 users, over
// HTTP with tokens; then one clean incremental per user must leave every
// account complete (no gaps after any mix of cancelled syncs), and every
// cancel's answer must still be its job's row.
BOOST_AUTO_TEST_SUITE(trigger_cancel_storm)

BOOST_AUTO_TEST_CASE(a_thousand_trigger_cancel_pairs_lose_nothing_and_change_no_final_row) {
  auto started = steady::now();
  fake_opendota fake;
  fake.set_detail_size(200);
  fake.set_latency(1);
  const int users = 50, clients = 8, pairs = 1000;
  std::vector<std::int64_t> accounts;
  for (int i = 0; i < users; ++i) {
    accounts.push_back(7401 + i);
    fake.set_history_size(accounts.back(), 40);
  }
  auto url = fresh_database("fault_storm");
  install_terminal_audit(url);

  // The users, created as an operator would: `matchsync user add`.
  std::vector<std::string> tokens(users);
  for (int first = 0; first < users; first += 8) {
    std::vector<std::unique_ptr<child_process>> adds;
    for (int i = first; i < std::min(users, first + 8); ++i)
      adds.push_back(std::make_unique<child_process>(
        std::vector<std::string>{binary_path("app/matchsync"), "user", "add", "--account-id",
                                 std::to_string(accounts[i]), "--name",
                                 "storm-" + std::to_string(i)},
        env_map{{"MATCHSYNC_DATABASE_URL", url}}));
    for (int i = first; i < std::min(users, first + 8); ++i) {
      auto& p = adds[i - first];
      BOOST_REQUIRE_MESSAGE(p->wait_exit(30s) == 0, p->output());
      auto out = p->output();
      while (!out.empty() && out.back() == '\n')
        out.pop_back();
      tokens[i] = out.substr(out.rfind('\n') + 1);
      BOOST_REQUIRE(tokens[i].size() >= 20);
    }
  }
  auto env = node_env(url, fake.url(), "storm-node");
  env["MATCHSYNC_AUTH"] = "token";
  env["MATCHSYNC_SLOTS"] = "16";
  auto serve = start_serve(env);

  std::mutex mutex;
  std::map<std::int64_t, std::pair<int, json>> cancelled;  // id -> (user, answer)
  std::map<std::string, int> outcomes;
  std::vector<std::string> anomalies;
  double worst_cancel_ms = 0;
  auto note = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    ++outcomes[what];
  };
  auto anomaly = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex);
    if (anomalies.size() < 20)
      anomalies.push_back(what);
    ++outcomes["anomaly"];
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      std::mt19937_64 rng(4242 + c);
      httplib::Client cli("127.0.0.1", serve.http_port);
      cli.set_read_timeout(15, 0);
      for (int n = c; n < pairs; n += clients) {
        int u = static_cast<int>(rng() % users);
        httplib::Headers auth{{"Authorization", "Bearer " + tokens[u]}};
        std::string type = rng() % 4 == 0 ? "full_sync" : "incremental_sync";
        auto t = cli.Post("/sync/trigger", auth, R"({"job_type":")" + type + "\"}",
                          "application/json");
        if (!t) {
          anomaly("trigger: no answer");
          continue;
        }
        auto tb = as_object(t->body);
        std::int64_t id = 0;
        if (t->status == 201) {
          note("trigger 201");
          id = tb.value("id", std::int64_t{0});
        } else if (t->status == 409) {
          note("trigger 409");
          if (tb.contains("active_job") && tb["active_job"].is_object())
            id = tb["active_job"].value("id", std::int64_t{0});
        } else {
          anomaly("trigger answered " + std::to_string(t->status) + " " + t->body);
        }
        if (id == 0) {
          note("trigger 409 without an active job left");
          continue;
        }
        auto t0 = steady::now();
        auto r = cli.Post("/sync/cancel/" + std::to_string(id), auth, "", "application/json");
        double ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
        if (!r) {
          anomaly("cancel " + std::to_string(id) + ": no answer");
          continue;
        }
        auto rb = as_object(r->body);
        if (r->status == 200 && rb.value("status", "") == "cancelled" &&
            rb.value("error_message", "") == "Cancelled by user" &&
            rb.contains("completed_at") && rb["completed_at"].is_string()) {
          note("cancel 200");
          std::lock_guard<std::mutex> lock(mutex);
          worst_cancel_ms = std::max(worst_cancel_ms, ms);
          auto [it, fresh] = cancelled.emplace(id, std::make_pair(u, rb));
          if (!fresh && it->second.second != rb && anomalies.size() < 20)
            anomalies.push_back("two cancels of job " + std::to_string(id) +
                                " answered different rows");
        } else if (r->status == 400 &&
                   rb.value("detail", "").rfind("Cannot cancel job with status: ", 0) == 0) {
          note("cancel 400 (already " + rb.value("detail", "").substr(31) + ")");
        } else {
          anomaly("cancel " + std::to_string(id) + " answered " + std::to_string(r->status) +
                  " " + r->body);
        }
      }
    });
  for (auto& t : threads)
    t.join();
  auto storm_s = std::chrono::duration<double>(steady::now() - started).count();

  // Everything settles; then one clean incremental per user.
  BOOST_REQUIRE(wait_until(
    [&] {
      pqxx::connection c(url);
      pqxx::nontransaction tx(c);
      return tx.exec1("SELECT count(*) FROM sync_jobs WHERE status IN ('pending','running')")[0]
               .as<int>() == 0;
    },
    60s));
  std::vector<std::int64_t> finals;
  for (int u = 0; u < users; ++u) {
    auto t = http_post(serve.http_port, "/sync/trigger", "", tokens[u]);
    BOOST_REQUIRE_MESSAGE(t.status == 201, "final trigger: " << t.status << " " << t.body.dump());
    finals.push_back(t.body.at("id").get<std::int64_t>());
  }
  bool ended = wait_terminal(url, finals, 120s);
  BOOST_REQUIRE_MESSAGE(ended, summary_of_jobs(url));
  require_all_completed(url, finals);

  auto v = final_check(url, fake, accounts, {"storm-node"}, 1);
  // Each cancel's answer carried the final row: it must still be the row.
  for (auto& [id, answer] : cancelled) {
    auto now = http_get(serve.http_port, "/sync/jobs/" + std::to_string(id),
                        tokens[answer.first]);
    if (now.status != 200 || now.body != answer.second) {
      ++v.terminal_changed;
      if (v.problems.size() < 12)
        v.problems.push_back("cancelled job " + std::to_string(id) + " answered " +
                             answer.second.dump() + " now " + now.body.dump());
    }
  }
  std::string extra;
  for (auto& [what, n] : outcomes)
    extra += what + ": " + std::to_string(n) + "; ";
  extra += "slowest cancel " + std::to_string(static_cast<int>(worst_cancel_ms)) +
           " ms; storm took " + std::to_string(static_cast<int>(storm_s)) + " s";
  report("trigger_cancel_storm", pairs, v, started, extra);
  for (auto& a : anomalies)
    BOOST_TEST_MESSAGE("anomaly: " << a);
  BOOST_TEST(outcomes["anomaly"] == 0);
  BOOST_TEST(outcomes["cancel 200"] > 0);
  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// The final check itself: it must see a lost match, a match without details,
// a terminal row changed after it ended, and a job running on a dead node.
BOOST_AUTO_TEST_SUITE(final_check_sees_faults)

BOOST_AUTO_TEST_CASE(the_final_check_reports_what_a_fault_could_break) {
  fake_opendota fake;
  const std::int64_t account = 7601;
  fake.set_history_size(account, 5);
  auto url = fresh_database("fault_final_check");
  install_terminal_audit(url);
  auto history = fake.history(account);
  {
    pqxx::connection c(url);
    pqxx::work tx(c);
    for (std::size_t i = 0; i + 1 < history.size(); ++i) {  // the oldest is lost
      auto id = history[i].at("match_id").get<std::int64_t>();
      tx.exec_params("INSERT INTO matches (account_id, match_id, summary, details_state) "
                     "VALUES ($1, $2, '{}', $3)",
                     account, id, i == 0 ? "missing" : "fetched");
      if (i != 0)
        tx.exec_params("INSERT INTO match_details (match_id, details) VALUES ($1, $2::json)",
                       id, json{{"match_id", id}}.dump());
    }
    // A stray: a match the upstream history of this account lacks.
    tx.exec_params("INSERT INTO matches (account_id, match_id, summary, details_state) "
                   "VALUES ($1, 1, '{}', 'missing')",
                   account);
    tx.commit();
  }
  auto done = create_job(url, account, "incremental_sync");
  {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    tx.exec_params("UPDATE sync_jobs SET status = 'completed', completed_at = now() WHERE id = $1",
                   done);
    tx.exec_params("UPDATE sync_jobs SET processed_matches = 99 WHERE id = $1", done);
  }
  auto other = create_job(url, account + 1, "incremental_sync");
  {
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    tx.exec_params("UPDATE sync_jobs SET status = 'running', node = 'ghost', "
                   "lease_expires_at = now() - interval '1 minute' WHERE id = $1",
                   other);
  }
  auto v = final_check(url, fake, {account}, {"alive"}, 1);
  BOOST_TEST(v.matches_checked == 5);
  BOOST_TEST(v.lost == 2);
  BOOST_TEST(v.strays == 1);
  BOOST_TEST(v.terminal_checked == 1);
  BOOST_TEST(v.terminal_changed >= 1);
  BOOST_TEST(v.orphans == 1);
  for (auto& p : v.problems)
    BOOST_TEST_MESSAGE(p);
}

BOOST_AUTO_TEST_SUITE_END()
