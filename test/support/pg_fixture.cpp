#include "test/support/pg_fixture.hpp"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <stdexcept>

#include <pqxx/pqxx>

#include "persistence/migrator.hpp"

namespace matchsync::test {

namespace {
std::string url_file() {
  const char* f = std::getenv("MATCHSYNC_TEST_PG_URL_FILE");
  if (f == nullptr)
    throw std::runtime_error(
      "MATCHSYNC_TEST_PG_URL_FILE is not set: run this test through ctest");
  return f;
}
}  // namespace

std::string cluster_url() {
  std::ifstream in(url_file());
  std::string url;
  std::getline(in, url);
  if (url.empty())
    throw std::runtime_error("no PostgreSQL cluster: " + url_file() + " is empty");
  return url;
}

std::string cluster_dir() {
  auto f = url_file();
  return f.substr(0, f.rfind('/'));
}

std::string fresh_database(const std::string& name,
                           std::optional<std::size_t> migrations) {
  auto admin_url = cluster_url();
  {
    pqxx::connection admin(admin_url);
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  }
  auto url = std::regex_replace(admin_url, std::regex("dbname=\\S+"),
                                "dbname=" + name);
  pqxx::connection conn(url);
  db::migrator().apply(conn, migrations);
  return url;
}

}  // namespace matchsync::test
