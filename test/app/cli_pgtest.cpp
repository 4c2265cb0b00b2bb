// The binary's commands as a user runs them: real processes, real PostgreSQL.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pqxx/pqxx>
#include <regex>

#include "core/token.hpp"
#include "persistence/migrator.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

struct run_result {
  int status;
  std::string output;
};

run_result run(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), test::binary_path("app/matchsync"));
  test::child_process p(args, env);
  int status = p.wait_exit(60s);
  return {status, p.output()};
}

std::string last_line(const std::string& s) {
  auto t = s;
  while (!t.empty() && t.back() == '\n')
    t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(serve_against_a_stale_schema_names_migrate_in_one_line) {
  auto url = test::fresh_database("cli_stale", 1);
  auto r = run({"serve"}, {{"MATCHSYNC_DATABASE_URL", url}, {"MATCHSYNC_HTTP_PORT", "0"}});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(count_lines(r.output) == 1);
  BOOST_TEST(r.output.find("matchsync migrate") != std::string::npos);
  BOOST_TEST(r.output.find("invalid input value") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_worker_against_a_stale_schema_names_migrate_in_one_line) {
  auto url = test::fresh_database("cli_stale_worker", 1);
  auto r = run({"worker"}, {{"MATCHSYNC_DATABASE_URL", url},
                            {"MATCHSYNC_COORDINATOR", "127.0.0.1:1"}});
  BOOST_TEST(r.status == 1, r.output);
  BOOST_TEST(count_lines(r.output) == 1);
  BOOST_TEST(r.output.find("matchsync migrate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(migrate_twice_is_a_no_op_and_status_lists_files) {
  auto url = test::fresh_database("cli_migrate", 0);
  std::map<std::string, std::string> env{{"MATCHSYNC_DATABASE_URL", url}};
  auto pending = run({"migrate", "--status"}, env);
  BOOST_TEST(pending.status == 0);
  BOOST_TEST(pending.output.find("pending  001_initial_schema.sql") != std::string::npos);
  auto first = run({"migrate"}, env);
  BOOST_TEST(first.status == 0);
  BOOST_TEST(first.output.find("applied 002_add_cancelled_status.sql") != std::string::npos);
  auto second = run({"migrate"}, env);
  BOOST_TEST(second.status == 0);
  BOOST_TEST(second.output.find("schema is current") != std::string::npos);
  BOOST_TEST(second.output.find("applied ") == std::string::npos);
  auto st = run({"migrate", "--status"}, env);
  BOOST_TEST(st.output.find("applied  002_add_cancelled_status.sql") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_migrate_processes_together_apply_each_file_once) {
  auto url = test::fresh_database("cli_migrate2", 0);
  std::map<std::string, std::string> env{{"MATCHSYNC_DATABASE_URL", url}};
  auto bin = test::binary_path("app/matchsync");
  test::child_process a({bin, "migrate"}, env), b({bin, "migrate"}, env);
  BOOST_TEST(a.wait_exit(60s) == 0);
  BOOST_TEST(b.wait_exit(60s) == 0);
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  // Every embedded migration, each once.
  BOOST_TEST(tx.exec1("SELECT count(*) FROM schema_migrations")[0].as<std::size_t>() ==
             db::embedded_migrations().size());
}

BOOST_AUTO_TEST_CASE(user_add_prints_the_token_last_and_stores_only_its_hash) {
  auto url = test::fresh_database("cli_user");
  std::map<std::string, std::string> env{{"MATCHSYNC_DATABASE_URL", url}};
  auto r = run({"user", "add", "--account-id", "86745912", "--name", "ana"}, env);
  BOOST_TEST(r.status == 0);
  auto token = last_line(r.output);
  BOOST_TEST(std::regex_match(token, std::regex("[0-9a-f]{64}")));
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  auto stored = tx.exec1("SELECT token_hash FROM users WHERE account_id = 86745912")[0]
                  .as<std::string>();
  BOOST_TEST(stored == hash_token(token));
  BOOST_TEST(stored != token);

  auto again = run({"user", "add", "--account-id", "86745912"}, env);
  BOOST_TEST(again.status == 1);
  BOOST_TEST(again.output.find("already exists") != std::string::npos);
  BOOST_TEST(again.output.find(token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_arguments_and_settings_stop_with_one_clear_line) {
  auto url = test::fresh_database("cli_bad");
  auto bad_port = run({"serve"}, {{"MATCHSYNC_DATABASE_URL", url},
                                  {"MATCHSYNC_HTTP_PORT", "70000"}});
  BOOST_TEST(bad_port.status == 2);
  BOOST_TEST(count_lines(bad_port.output) == 1);
  BOOST_TEST(bad_port.output.find("MATCHSYNC_HTTP_PORT") != std::string::npos);

  auto bad_auth = run({"serve"}, {{"MATCHSYNC_DATABASE_URL", url}, {"MATCHSYNC_AUTH", "maybe"}});
  BOOST_TEST(bad_auth.status == 2);
  BOOST_TEST(bad_auth.output.find("MATCHSYNC_AUTH") != std::string::npos);

  auto no_db = run({"migrate"}, {{"MATCHSYNC_DATABASE_URL", ""}});
  BOOST_TEST(no_db.status == 2);
  BOOST_TEST(no_db.output.find("MATCHSYNC_DATABASE_URL") != std::string::npos);

  auto bad_account = run({"user", "add", "--account-id", "abc"}, {{"MATCHSYNC_DATABASE_URL", url}});
  BOOST_TEST(bad_account.status == 2);
  BOOST_TEST(bad_account.output.find("--account-id") != std::string::npos);

  auto unknown = run({"frobnicate"}, {});
  BOOST_TEST(unknown.status == 2);
  BOOST_TEST(unknown.output.find("unknown command") != std::string::npos);

  auto bad_file = run({"migrate", "--config", "/nonexistent/matchsync.conf"},
                      {{"MATCHSYNC_DATABASE_URL", url}});
  BOOST_TEST(bad_file.status == 2);
  BOOST_TEST(bad_file.output.find("/nonexistent/matchsync.conf") != std::string::npos);
}

// Another tool's variable in the shared environment does not stop the
// program; it is named in a warning.
BOOST_AUTO_TEST_CASE(an_unknown_environment_variable_is_named_and_ignored) {
  auto url = test::fresh_database("cli_unknown_env");
  auto r = run({"migrate"}, {{"MATCHSYNC_DATABASE_URL", url}, {"MATCHSYNC_BASE_URL", "x"}});
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("unknown setting ignored") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("MATCHSYNC_BASE_URL") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(serve_with_migrate_answers_health_and_ready) {
  auto url = test::fresh_database("cli_serve", 0);
  test::child_process p({test::binary_path("app/matchsync"), "serve", "--migrate"},
                        {{"MATCHSYNC_DATABASE_URL", url},
                         {"MATCHSYNC_HTTP_PORT", "0"},
                         {"MATCHSYNC_AUTH", "none"},
                         {"MATCHSYNC_DEFAULT_ACCOUNT_ID", "1"},
                         {"MATCHSYNC_UPSTREAM_URL", "demo"}});
  BOOST_REQUIRE(p.wait_for_output("listening url=http://127.0.0.1:", 30s));
  std::smatch m;
  auto out = p.output();
  BOOST_REQUIRE(std::regex_search(out, m, std::regex("127\\.0\\.0\\.1:(\\d+)/")));
  httplib::Client cli("127.0.0.1", std::stoi(m[1]));
  auto health = cli.Get("/health");
  BOOST_REQUIRE(health);
  BOOST_TEST(health->status == 200);
  auto ready = cli.Get("/ready");
  BOOST_REQUIRE(ready);
  BOOST_TEST(ready->status == 200);
  auto missing = cli.Get("/no/such/route");
  BOOST_REQUIRE(missing);
  BOOST_TEST(missing->status == 404);
  BOOST_TEST(missing->body.find("\"detail\"") != std::string::npos);
  p.signal(SIGTERM);
  BOOST_TEST(p.wait_exit(10s) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(cli_cluster)

namespace {

mode_t mode_of(const std::string& path) {
  struct stat st {};
  BOOST_REQUIRE_MESSAGE(::stat(path.c_str(), &st) == 0, path);
  return st.st_mode & 07777;
}

// A fresh folder for this test's certificates.
std::string cert_dir(const std::string& name) {
  auto dir = test::test_output_dir("cli_cluster/" + name);
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  return dir;
}

std::map<std::string, std::string> tls_env(const std::string& url, const std::string& ca,
                                            const std::string& node_dir,
                                            const std::string& node) {
  return {{"MATCHSYNC_DATABASE_URL", url},
          {"MATCHSYNC_HTTP_PORT", "0"},
          {"MATCHSYNC_CLUSTER_PORT", "0"},
          {"MATCHSYNC_CLUSTER_SECRET", "s3cret"},
          {"MATCHSYNC_CLUSTER_CA", ca},
          {"MATCHSYNC_CLUSTER_CERT", node_dir + "/" + node + ".crt"},
          {"MATCHSYNC_CLUSTER_KEY", node_dir + "/" + node + ".key"},
          {"MATCHSYNC_UPSTREAM_URL", "demo"}};
}

}  // namespace

BOOST_AUTO_TEST_CASE(cluster_ca_and_cert_write_keys_0600_and_never_overwrite) {
  auto dir = cert_dir("files");
  auto ca = run({"cluster", "ca", "--out", dir + "/ca"}, {});
  BOOST_TEST(ca.status == 0, ca.output);
  BOOST_TEST(mode_of(dir + "/ca/ca.key") == 0600u);
  BOOST_TEST(mode_of(dir + "/ca/ca.crt") == 0644u);
  auto cert = run({"cluster", "cert", "--ca", dir + "/ca", "--node", "w1", "--out",
                   dir + "/nodes"}, {});
  BOOST_TEST(cert.status == 0, cert.output);
  BOOST_TEST(mode_of(dir + "/nodes/w1.key") == 0600u);
  BOOST_TEST(mode_of(dir + "/nodes/w1.crt") == 0644u);
  auto again = run({"cluster", "ca", "--out", dir + "/ca"}, {});
  BOOST_TEST(again.status == 1);
  BOOST_TEST(count_lines(again.output) == 1, again.output);
  BOOST_TEST(again.output.find("ca.key already exists") != std::string::npos, again.output);
  auto cert_again = run({"cluster", "cert", "--ca", dir + "/ca", "--node", "w1", "--out",
                         dir + "/nodes"}, {});
  BOOST_TEST(cert_again.status == 1);
  BOOST_TEST(cert_again.output.find("already exists") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cluster_cert_without_a_ca_names_the_command_that_makes_one) {
  auto dir = cert_dir("no_ca");
  auto r = run({"cluster", "cert", "--ca", dir + "/missing", "--node", "w1", "--out", dir},
               {});
  BOOST_TEST(r.status == 1);
  BOOST_TEST(count_lines(r.output) == 1, r.output);
  BOOST_TEST(r.output.find("matchsync cluster ca --out") != std::string::npos, r.output);
  BOOST_TEST(::access((dir + "/w1.key").c_str(), F_OK) != 0);
  BOOST_TEST(run({"cluster", "cert", "--ca", dir}, {}).status == 2);
  BOOST_TEST(run({"cluster", "sign"}, {}).status == 2);
}

BOOST_AUTO_TEST_CASE(a_plain_cluster_port_beyond_loopback_needs_cluster_tls_off) {
  auto url = test::fresh_database("cli_cluster_plain", 0);
  std::map<std::string, std::string> env{{"MATCHSYNC_DATABASE_URL", url},
                                         {"MATCHSYNC_HTTP_PORT", "0"},
                                         {"MATCHSYNC_CLUSTER_PORT", "0"},
                                         {"MATCHSYNC_CLUSTER_HOST", "0.0.0.0"},
                                         {"MATCHSYNC_CLUSTER_SECRET", "s3cret"},
                                         {"MATCHSYNC_UPSTREAM_URL", "demo"}};
  auto refused = run({"serve", "--migrate"}, env);
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(count_lines(refused.output) == 1, refused.output);
  BOOST_TEST(refused.output.find("MATCHSYNC_CLUSTER_CA") != std::string::npos);
  BOOST_TEST(refused.output.find("MATCHSYNC_CLUSTER_TLS=off") != std::string::npos);
  auto worker = run({"worker", "--coordinator", "10.0.0.1:4242"},
                    {{"MATCHSYNC_DATABASE_URL", url}});
  BOOST_TEST(worker.status == 2);
  BOOST_TEST(worker.output.find("MATCHSYNC_CLUSTER_CA") != std::string::npos, worker.output);

  env["MATCHSYNC_CLUSTER_TLS"] = "off";
  test::child_process p({test::binary_path("app/matchsync"), "serve", "--migrate"}, env);
  BOOST_REQUIRE_MESSAGE(p.wait_for_output("listening url=", 30s), p.output());
  BOOST_TEST(p.output().find("cluster link without TLS beyond loopback") != std::string::npos,
             p.output());
  BOOST_TEST(p.output().find("cluster listening host=0.0.0.0") != std::string::npos);
  p.signal(SIGTERM);
  BOOST_TEST(p.wait_exit(10s) == 0);
}

BOOST_AUTO_TEST_CASE(a_half_set_or_a_foreign_certificate_stops_serve_naming_the_setting) {
  auto url = test::fresh_database("cli_cluster_files", 0);
  auto dir = cert_dir("start");
  BOOST_REQUIRE(run({"cluster", "ca", "--out", dir + "/ca"}, {}).status == 0);
  BOOST_REQUIRE(run({"cluster", "ca", "--out", dir + "/other"}, {}).status == 0);
  BOOST_REQUIRE(run({"cluster", "cert", "--ca", dir + "/other", "--node", "coord", "--out",
                     dir + "/other"}, {}).status == 0);
  auto env = tls_env(url, dir + "/ca/ca.crt", dir + "/other", "coord");
  env.erase("MATCHSYNC_CLUSTER_KEY");
  auto half = run({"serve", "--migrate"}, env);
  BOOST_TEST(half.status == 2);
  BOOST_TEST(count_lines(half.output) == 1, half.output);
  BOOST_TEST(half.output.find("MATCHSYNC_CLUSTER_KEY: required") != std::string::npos,
             half.output);
  auto foreign = run({"serve", "--migrate"}, tls_env(url, dir + "/ca/ca.crt", dir + "/other",
                                                     "coord"));
  BOOST_TEST(foreign.status == 2);
  BOOST_TEST(count_lines(foreign.output) == 1, foreign.output);
  BOOST_TEST(foreign.output.find("MATCHSYNC_CLUSTER_CERT:") != std::string::npos,
             foreign.output);
  BOOST_TEST(foreign.output.find("does not verify") != std::string::npos, foreign.output);
}

BOOST_AUTO_TEST_SUITE_END()
