// The fault-injection suite's shared pieces: real `matchsync` processes, a
// private PostgreSQL that a test may stop, and the check every scenario ends
// with (every upstream match stored once with details, no job running without
// a live owner, every terminal job unchanged since it ended).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test/fake_opendota/fake_server.hpp"
#include "test/support/process.hpp"

namespace matchsync::test::fault {

using env_map = std::map<std::string, std::string>;

/// Settings every node of the suite shares: fast backoff, unlimited budget,
/// ephemeral ports, a short lease so that a killed owner is noticed soon.
env_map node_env(const std::string& db_url, const std::string& upstream_url,
                 const std::string& node_id);

/// A started `matchsync serve` and the ports it printed.
struct serve_process {
  std::unique_ptr<child_process> process;
  int http_port = 0;
  int cluster_port = 0;  ///< 0 when it does not listen for workers
};

/// Starts `matchsync serve` and waits until it listens (false: REQUIREs).
serve_process start_serve(const env_map& env);

/// Starts `matchsync worker --coordinator 127.0.0.1:PORT`.
std::unique_ptr<child_process> start_worker(const env_map& env, int coordinator_port);

/// One HTTP exchange with a serve; status 0 when there was no answer.
struct http_answer {
  int status = 0;
  nlohmann::json body;
};
http_answer http_get(int port, const std::string& path, const std::string& token = "");
http_answer http_post(int port, const std::string& path, const std::string& body,
                      const std::string& token = "");

/// A pending job created straight in the database (the coordinator picks
/// it up), for accounts other than the default user's.
std::int64_t create_job(const std::string& db_url, std::int64_t account,
                        const std::string& job_type);

/// The jobs' statuses by id.
std::map<std::int64_t, std::string> job_statuses(const std::string& db_url,
                                                 const std::vector<std::int64_t>& ids);
/// One job's row as JSON (status, node, attempt, counters, error_message...).
nlohmann::json job_row(const std::string& db_url, std::int64_t id);
/// Waits until every job is terminal; false at the deadline.
bool wait_terminal(const std::string& db_url, const std::vector<std::int64_t>& ids,
                   std::chrono::milliseconds deadline);

/// A PostgreSQL cluster of the test's own (scripts/pg.sh), which it may stop
/// and start at will; schema migrated.
class private_cluster {
public:
  explicit private_cluster(const std::string& name);
  ~private_cluster();
  /// pg_ctl stop with `mode` (fast, immediate); true when stopped.
  bool stop(const std::string& mode);
  /// pg_ctl start on the same port; true when started.
  bool start();
  const std::string& url() const { return url_; }

private:
  std::string dir_, url_;
  int port_ = 0;
};

/// Installs triggers that snapshot each sync_jobs row the moment it becomes
/// terminal, and record any later change of a terminal row.
void install_terminal_audit(const std::string& db_url);

/// What the final check found.
struct verdict {
  std::int64_t matches_checked = 0;
  std::int64_t lost = 0;              ///< upstream matches not stored with details
  std::int64_t strays = 0;            ///< stored matches the upstream history lacks
  std::int64_t terminal_changed = 0;  ///< terminal jobs changed after they ended
  std::int64_t terminal_checked = 0;
  std::int64_t orphans = 0;           ///< running jobs without a live owner
  std::vector<std::string> problems;  ///< the first few, for the log
};

/// The check every scenario ends with. `live_nodes`: node ids of processes
/// still running and part of the cluster.
verdict final_check(const std::string& db_url, fake_opendota& fake,
                     const std::vector<std::int64_t>& accounts,
                     const std::set<std::string>& live_nodes, int lease_s);

/// Prints the scenario's figures (test log, stdout and
/// test-output/fault/SCENARIO.txt) and asserts that nothing was lost.
void report(const std::string& scenario, std::int64_t faults, const verdict& v,
            std::chrono::steady_clock::time_point started,
            const std::string& extra = "");

/// Counts the fake's API answers that were faults (anything but a normal
/// answer), from log sequence `since` on.
std::int64_t upstream_faults(fake_opendota& fake, std::size_t since = 0);

}  // namespace matchsync::test::fault
