#include "test/fault/fault_harness.hpp"

#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <pqxx/pqxx>

#include "core/sync_job.hpp"
#include "persistence/job_store.hpp"
#include "persistence/migrator.hpp"
#include "persistence/user_store.hpp"

using namespace std::chrono_literals;

namespace matchsync::test::fault {

namespace {

const char* terminal_sql = "('completed', 'failed', 'cancelled')";

int port_in(const std::string& out, const std::regex& re) {
  std::smatch m;
  return std::regex_search(out, m, re) ? std::stoi(m[1]) : 0;
}

httplib::Headers auth_headers(const std::string& token) {
  if (token.empty())
    return {};
  return {{"Authorization", "Bearer " + token}};
}

http_answer to_answer(const httplib::Result& r) {
  http_answer a;
  if (!r)
    return a;
  a.status = r->status;
  a.body = nlohmann::json::parse(r->body, nullptr, false);
  if (a.body.is_discarded())  // not JSON: keep the text, callers read fields
    a.body = {{"raw", r->body}};
  return a;
}

}  // namespace

env_map node_env(const std::string& db_url, const std::string& upstream_url,
                 const std::string& node_id) {
  return {{"MATCHSYNC_DATABASE_URL", db_url},
          {"MATCHSYNC_UPSTREAM_URL", upstream_url},
          {"MATCHSYNC_UPSTREAM_RATE_PER_MINUTE", "0"},
          {"MATCHSYNC_UPSTREAM_DAILY_LIMIT", "0"},  // thousands of requests per run
          {"MATCHSYNC_UPSTREAM_PAGE_SIZE", "50"},
          {"MATCHSYNC_UPSTREAM_BACKOFF_BASE_MS", "20"},
          {"MATCHSYNC_UPSTREAM_TIMEOUT_MS", "5000"},
          {"MATCHSYNC_HTTP_HOST", "127.0.0.1"},
          {"MATCHSYNC_HTTP_PORT", "0"},
          {"MATCHSYNC_HTTP_THREADS", "24"},
          {"MATCHSYNC_CLUSTER_PORT", "0"},
          {"MATCHSYNC_JOB_LEASE_S", "1"},
          {"MATCHSYNC_JOB_MAX_ATTEMPTS", "100"},
          {"MATCHSYNC_LOG_FORMAT", "text"},
          {"MATCHSYNC_NODE_ID", node_id}};
}

serve_process start_serve(const env_map& env) {
  serve_process s;
  s.process = std::make_unique<child_process>(
    std::vector<std::string>{binary_path("app/matchsync"), "serve"}, env);
  // Text (`listening url=...`) or JSON (`"msg":"listening","url":"..."`) logs.
  BOOST_REQUIRE_MESSAGE(wait_until(
                          [&] {
                            auto out = s.process->output();
                            return out.find("listening url=") != std::string::npos ||
                                   out.find("\"msg\":\"listening\"") != std::string::npos;
                          },
                          30s),
                        "serve did not start: " << s.process->output());
  auto out = s.process->output();
  s.http_port = port_in(out, std::regex(R"((?:listening url=|"url":")http://[^:]+:(\d+)/)"));
  s.cluster_port =
    port_in(out, std::regex(R"((?:cluster listening .*port=|"msg":"cluster listening".*"port":")(\d+))"));
  BOOST_REQUIRE(s.http_port > 0);
  return s;
}

std::unique_ptr<child_process> start_worker(const env_map& env, int coordinator_port) {
  return std::make_unique<child_process>(
    std::vector<std::string>{binary_path("app/matchsync"), "worker", "--coordinator",
                             "127.0.0.1:" + std::to_string(coordinator_port)},
    env);
}

http_answer http_get(int port, const std::string& path, const std::string& token) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(10, 0);
  return to_answer(cli.Get(path.c_str(), auth_headers(token)));
}

http_answer http_post(int port, const std::string& path, const std::string& body,
                      const std::string& token) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(10, 0);
  return to_answer(cli.Post(path.c_str(), auth_headers(token), body, "application/json"));
}

std::int64_t create_job(const std::string& db_url, std::int64_t account,
                        const std::string& job_type) {
  pqxx::connection c(db_url);
  auto user = db::user_store(c).ensure(account);
  return db::job_store(c).create(user.id, account, *parse_job_type(job_type)).id;
}

std::map<std::int64_t, std::string> job_statuses(const std::string& db_url,
                                                 const std::vector<std::int64_t>& ids) {
  std::map<std::int64_t, std::string> out;
  pqxx::connection c(db_url);
  pqxx::nontransaction tx(c);
  for (auto row : tx.exec("SELECT id, status::text FROM sync_jobs"))
    out[row[0].as<std::int64_t>()] = row[1].as<std::string>();
  for (auto it = out.begin(); it != out.end();)
    it = std::find(ids.begin(), ids.end(), it->first) == ids.end() ? out.erase(it)
                                                                    : std::next(it);
  return out;
}

nlohmann::json job_row(const std::string& db_url, std::int64_t id) {
  pqxx::connection c(db_url);
  pqxx::nontransaction tx(c);
  auto r = tx.exec_params("SELECT to_jsonb(j)::text FROM sync_jobs j WHERE id = $1", id);
  if (r.empty())
    return nullptr;
  return nlohmann::json::parse(r[0][0].as<std::string>());
}

bool wait_terminal(const std::string& db_url, const std::vector<std::int64_t>& ids,
                   std::chrono::milliseconds deadline) {
  return wait_until(
    [&] {
      try {
        auto st = job_statuses(db_url, ids);
        for (auto& [id, s] : st)
          if (s == "pending" || s == "running")
            return false;
        return st.size() == ids.size();
      } catch (const std::exception&) {
        return false;  // the database may be down in some scenarios
      }
    },
    deadline);
}

private_cluster::private_cluster(const std::string& name)
  : dir_(test_output_dir("fault") + "/" + name + "-pg") {
  std::string cmd = std::string(MATCHSYNC_SOURCE_DIR) + "/scripts/pg.sh start " + dir_ + " --throwaway" +
                    " >/dev/null";
  BOOST_REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "cannot start PostgreSQL in " << dir_);
  std::ifstream in(dir_ + "/url");
  std::getline(in, url_);
  std::ifstream pin(dir_ + "/port");
  pin >> port_;
  pqxx::connection c(url_);
  {
    pqxx::nontransaction tx(c);
    tx.exec("DROP SCHEMA public CASCADE");
    tx.exec("CREATE SCHEMA public");
  }
  db::migrator().apply(c);
}

private_cluster::~private_cluster() {
  std::string cmd = std::string(MATCHSYNC_SOURCE_DIR) + "/scripts/pg.sh stop " + dir_;
  if (std::system(cmd.c_str()) != 0)
    BOOST_TEST_MESSAGE("could not stop " << dir_);
}

bool private_cluster::stop(const std::string& mode) {
  std::string cmd = "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D " + dir_ +
                    "/data -w -m " + mode + " stop >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

bool private_cluster::start() {
  std::string cmd = "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D " + dir_ +
                    "/data -l " + dir_ + "/log -w -t 60 -o '-p " + std::to_string(port_) +
                    " -k " + dir_ +
                    // No TCP on a restart: its port was freed at the stop and
                    // another test may hold it now; the tests reach the
                    // cluster by its socket in dir_, which no one else uses.
                    " -c listen_addresses=\"\" -c fsync=off -c max_connections=300' "
                    "start >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

void install_terminal_audit(const std::string& db_url) {
  pqxx::connection c(db_url);
  pqxx::work tx(c);
  tx.exec(R"sql(
    CREATE TABLE fault_terminal_snapshot (
      id bigint PRIMARY KEY, row jsonb NOT NULL,
      taken_at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE TABLE fault_terminal_change (
      id bigint NOT NULL, old_row jsonb, new_row jsonb,
      at timestamptz NOT NULL DEFAULT clock_timestamp());
    CREATE FUNCTION fault_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        IF OLD.status::text IN ('completed', 'failed', 'cancelled') THEN
          INSERT INTO fault_terminal_change (id, old_row) VALUES (OLD.id, to_jsonb(OLD));
        END IF;
        RETURN OLD;
      END IF;
      IF NEW.status::text IN ('completed', 'failed', 'cancelled')
         AND (TG_OP = 'INSERT' OR OLD.status::text NOT IN ('completed', 'failed', 'cancelled')) THEN
        INSERT INTO fault_terminal_snapshot (id, row) VALUES (NEW.id, to_jsonb(NEW))
          ON CONFLICT (id) DO NOTHING;
      END IF;
      IF TG_OP = 'UPDATE' AND OLD.status::text IN ('completed', 'failed', 'cancelled')
         AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        INSERT INTO fault_terminal_change (id, old_row, new_row)
          VALUES (NEW.id, to_jsonb(OLD), to_jsonb(NEW));
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER fault_audit AFTER INSERT OR UPDATE OR DELETE ON sync_jobs
      FOR EACH ROW EXECUTE FUNCTION fault_audit();
  )sql");
  tx.commit();
}

verdict final_check(const std::string& db_url, fake_opendota& fake,
                    const std::vector<std::int64_t>& accounts,
                    const std::set<std::string>& live_nodes, int lease_s) {
  verdict v;
  auto problem = [&](const std::string& p) {
    if (v.problems.size() < 12)
      v.problems.push_back(p);
  };
  pqxx::connection c(db_url);
  pqxx::nontransaction tx(c);

  for (auto account : accounts) {
    auto history = fake.history(account);
    std::map<std::int64_t, std::pair<std::string, std::int64_t>> stored;
    for (auto row : tx.exec_params(
           "SELECT match_id, details_state, COALESCE((details->>'match_id')::bigint, 0) "
           "FROM matches LEFT JOIN match_details USING (match_id) WHERE account_id = $1",
           account))
      stored[row[0].as<std::int64_t>()] = {row[1].as<std::string>(),
                                           row[2].as<std::int64_t>()};
    // (No count of duplicate rows: the primary key (account_id, match_id)
    // makes one impossible. What a fault could leave is a row the upstream
    // history lacks: a match written under the wrong account or id.)
    std::set<std::int64_t> upstream_ids;
    for (const auto& m : history) {
      auto id = m.at("match_id").get<std::int64_t>();
      upstream_ids.insert(id);
      ++v.matches_checked;
      auto it = stored.find(id);
      if (it == stored.end()) {
        ++v.lost;
        problem("account " + std::to_string(account) + ": match " + std::to_string(id) +
                " not stored");
      } else if (it->second.first != "fetched" || it->second.second != id) {
        ++v.lost;
        problem("account " + std::to_string(account) + ": match " + std::to_string(id) +
                " stored without details (" + it->second.first + ")");
      }
    }
    for (const auto& [id, state] : stored)
      if (!upstream_ids.count(id)) {
        ++v.strays;
        problem("account " + std::to_string(account) + ": match " + std::to_string(id) +
                " stored, but the upstream history lacks it");
      }
  }

  // Terminal rows: each as it was when it ended, and no change recorded.
  v.terminal_checked =
    tx.exec1("SELECT count(*) FROM fault_terminal_snapshot")[0].as<std::int64_t>();
  for (auto row : tx.exec(
         "SELECT s.id, s.row::text, COALESCE(to_jsonb(j)::text, 'deleted') "
         "FROM fault_terminal_snapshot s LEFT JOIN sync_jobs j ON j.id = s.id "
         "WHERE j.id IS NULL OR to_jsonb(j) <> s.row "
         "UNION SELECT id, old_row::text, COALESCE(new_row::text, 'deleted') "
         "FROM fault_terminal_change")) {
    ++v.terminal_changed;
    problem("terminal job " + row[0].as<std::string>() + " changed: was " +
            row[1].as<std::string>() + " now " + row[2].as<std::string>());
  }
  auto unsnapped = tx.exec1(std::string("SELECT count(*) FROM sync_jobs j WHERE status::text IN ") +
                            terminal_sql +
                            " AND NOT EXISTS (SELECT 1 FROM fault_terminal_snapshot s "
                            "WHERE s.id = j.id)")[0]
                     .as<std::int64_t>();
  if (unsnapped > 0) {
    v.terminal_changed += unsnapped;
    problem(std::to_string(unsnapped) + " terminal jobs the audit never saw end");
  }

  // Running jobs: owned by a live node whose lease is current.
  for (auto row : tx.exec_params(
         "SELECT id, COALESCE(node, ''), "
         "COALESCE(lease_expires_at < now() - make_interval(secs => $1), true) "
         "FROM sync_jobs WHERE status = 'running'",
         lease_s)) {
    auto node = row[1].as<std::string>();
    if (live_nodes.count(node) == 0 || row[2].as<bool>()) {
      ++v.orphans;
      problem("job " + row[0].as<std::string>() + " running on " + node +
              (live_nodes.count(node) ? " with an expired lease" : ", not a live node"));
    }
  }
  return v;
}

void report(const std::string& scenario, std::int64_t faults, const verdict& v,
            std::chrono::steady_clock::time_point started, const std::string& extra) {
  auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::ostringstream line;
  line << "FAULT SCENARIO " << scenario << ": faults injected " << faults
       << ", matches checked " << v.matches_checked << ", lost " << v.lost
       << ", strays " << v.strays << ", terminal jobs checked "
       << v.terminal_checked << ", changed after ending " << v.terminal_changed
       << ", running without live owner " << v.orphans << ", wall " << std::fixed
       << std::setprecision(1) << wall << " s";
  if (!extra.empty())
    line << " (" << extra << ")";
  std::cout << line.str() << std::endl;
  BOOST_TEST_MESSAGE(line.str());
  for (auto& p : v.problems)
    BOOST_TEST_MESSAGE("  " << p);
  std::ofstream(test_output_dir("fault") + "/" + scenario + ".txt") << line.str() << "\n";

  BOOST_TEST(faults > 0);
  BOOST_TEST(v.matches_checked > 0);
  BOOST_TEST(v.lost == 0);
  BOOST_TEST(v.strays == 0);
  BOOST_TEST(v.terminal_changed == 0);
  BOOST_TEST(v.orphans == 0);
}

std::int64_t upstream_faults(fake_opendota& fake, std::size_t since) {
  std::int64_t n = 0;
  for (const auto& r : fake.log(since))
    n += r.action != "pass" ? 1 : 0;
  return n;
}

}  // namespace matchsync::test::fault
