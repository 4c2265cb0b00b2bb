// Tokens a user controls, with the real binary and a real serve:
// `matchsync user token` revokes the old token within a second and the new
// one works; `matchsync user remove` refuses without --yes, then removes the
// user's rows and their token stops working.
#define BOOST_TEST_MODULE token_rotation
#include <boost/test/unit_test.hpp>

#include <csignal>

#include <pqxx/pqxx>

#include "test/fake_opendota/fake_server.hpp"
#include "test/fault/fault_harness.hpp"
#include "test/security/raw_http.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync::test;
using namespace matchsync::test::fault;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct cli_run {
  int status;
  std::string output;
};

cli_run cli(const std::string& db_url, std::vector<std::string> args) {
  args.insert(args.begin(), binary_path("app/matchsync"));
  child_process p(args, {{"MATCHSYNC_DATABASE_URL", db_url}});
  int status = p.wait_exit(30s);
  return {status, p.output()};
}

std::string last_line(std::string out) {
  out.erase(out.find_last_not_of('\n') + 1);
  return out.substr(out.rfind('\n') + 1);
}

long count(const std::string& db_url, const std::string& sql, std::int64_t account) {
  pqxx::connection c(db_url);
  pqxx::nontransaction tx(c);
  return tx.exec_params1(sql, account)[0].as<long>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_rotated_token_stops_within_a_second_and_a_removed_user_is_gone) {
  auto url = fresh_database("token_rotation");
  fake_opendota fake;
  fake.set_detail_size(100);
  const std::int64_t account = 7801, other = 7802;
  fake.set_history_size(account, 20);
  auto old_token = user_token(url, account);
  auto other_token = user_token(url, other);
  auto env = node_env(url, fake.url(), "rotation-node");
  env["MATCHSYNC_AUTH"] = "token";
  auto serve = start_serve(env);
  auto port = serve.http_port;

  // Some history to remove later.
  auto job = http_post(port, "/sync/trigger", "{}", old_token);
  BOOST_REQUIRE_EQUAL(job.status, 201);
  BOOST_REQUIRE(wait_terminal(url, {job.body.at("id").get<std::int64_t>()}, 60s));
  BOOST_REQUIRE_EQUAL(http_get(port, "/sync/jobs", old_token).status, 200);  // cached now

  auto rotated = cli(url, {"user", "token", "--account-id", std::to_string(account)});
  BOOST_REQUIRE_MESSAGE(rotated.status == 0, rotated.output);
  auto rotated_at = steady::now();
  auto new_token = last_line(rotated.output);
  BOOST_TEST(new_token.size() == 64u);
  BOOST_TEST(new_token != old_token);
  BOOST_TEST(wait_until([&] { return http_get(port, "/sync/jobs", old_token).status == 401; }, 1s));
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - rotated_at).count() < 1000);
  auto jobs = http_get(port, "/sync/jobs", new_token);
  BOOST_TEST(jobs.status == 200);
  BOOST_TEST(jobs.body.size() == 1u);
  BOOST_TEST(cli(url, {"user", "token", "--account-id", "424242"}).status == 1);

  auto refused = cli(url, {"user", "remove", "--account-id", std::to_string(account)});
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.output.find("--yes") != std::string::npos, refused.output);
  BOOST_TEST(http_get(port, "/sync/jobs", new_token).status == 200);

  const char* match_rows = "SELECT count(*) FROM matches WHERE account_id = $1";
  BOOST_REQUIRE(count(url, match_rows, account) > 0);
  auto removed = cli(url, {"user", "remove", "--account-id", std::to_string(account), "--yes"});
  BOOST_REQUIRE_MESSAGE(removed.status == 0, removed.output);
  BOOST_TEST(wait_until([&] { return http_get(port, "/sync/jobs", new_token).status == 401; }, 1s));
  BOOST_TEST(count(url, "SELECT count(*) FROM users WHERE account_id = $1", account) == 0);
  BOOST_TEST(count(url, "SELECT count(*) FROM sync_jobs WHERE account_id = $1", account) == 0);
  BOOST_TEST(count(url, match_rows, account) == 0);
  BOOST_TEST(count(url, "SELECT count(*) FROM account_sync_state WHERE account_id = $1", account) == 0);
  // Another user is untouched.
  BOOST_TEST(http_get(port, "/sync/jobs", other_token).status == 200);
  BOOST_TEST(count(url, "SELECT count(*) FROM users WHERE account_id = $1", other) == 1);

  serve.process->signal(SIGTERM);
  BOOST_TEST(serve.process->wait_exit(20s) == 0);
}
