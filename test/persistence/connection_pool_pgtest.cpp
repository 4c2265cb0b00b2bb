// The shared connection pool against a real PostgreSQL: its bound, reuse,
// replacement of a killed connection, the deadline of a wait, and how many
// connects it runs at once (against a server that never answers).
#define BOOST_TEST_MODULE connection_pool
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <pqxx/pqxx>

#include "core/errors.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/database.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

namespace {

struct fixture {
  explicit fixture(const std::string& app)
    : url(test::fresh_database("connection_pool")), admin(url), app(app) {}

  db::pool_options options(int max_size) const {
    db::pool_options o;
    o.url = url;
    o.max_size = max_size;
    o.acquire_timeout = 30s;
    o.application_name = app;
    return o;
  }

  // The pool's sessions as the server sees them.
  long sessions() {
    pqxx::nontransaction tx(admin);
    return tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                           app)[0]
      .as<long>();
  }

  std::string url;
  pqxx::connection admin;
  std::string app;
};

int backend_pid(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
}

int backend_pid(db::connection_pool& pool) {
  int pid = 0;
  pool.with_connection([&](pqxx::connection& c) { pid = backend_pid(c); });
  return pid;
}

// Code of the domain_error `fn` throws, none if it does not throw.
template <class F>
errc error_of(F fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const domain_error& e) {
    if (message)
      *message = e.what();
    return e.code();
  }
  return errc::none;
}

// A TCP port that accepts connections into its backlog and never answers:
// a connect to it hangs until libpq's connect_timeout.
struct silent_server {
  silent_server() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    BOOST_REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~silent_server() { close(); }
  // Closing the listener resets the queued connections: pending connects fail.
  void close() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
  int fd = -1;
  int port = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(connection_pool)

BOOST_AUTO_TEST_CASE(never_opens_more_than_its_maximum_and_reuses_what_it_opened) {
  fixture f("pool_test_bound");
  db::connection_pool pool(f.options(3));
  std::atomic<int> held{0};
  std::atomic<int> most_held{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> users;
  for (int i = 0; i < 8; ++i)
    users.emplace_back([&] {
      auto lease = pool.acquire();
      int now = ++held;
      for (int m = most_held; now > m && !most_held.compare_exchange_weak(m, now);) {
      }
      test::wait_until([&] { return go.load(); }, 60s);
      --held;
    });
  BOOST_REQUIRE(test::wait_until(
    [&] { return held == 3 && pool.snapshot().waiting == 5; }, 30s));
  BOOST_TEST(f.sessions() == 3);
  go = true;
  for (auto& t : users)
    t.join();
  BOOST_TEST(most_held.load() == 3);
  auto c = pool.snapshot();
  BOOST_TEST(c.opened == 3);
  BOOST_TEST(c.open == 3);
  BOOST_TEST(c.idle == 3);
  BOOST_TEST(f.sessions() == 3);
}

BOOST_AUTO_TEST_CASE(a_returned_connection_is_lent_again) {
  fixture f("pool_test_reuse");
  db::connection_pool pool(f.options(4));
  auto first = backend_pid(pool);
  BOOST_TEST(backend_pid(pool) == first);
  BOOST_TEST(backend_pid(pool) == first);
  BOOST_TEST(pool.snapshot().opened == 1);
  BOOST_TEST(f.sessions() == 1);
}

BOOST_AUTO_TEST_CASE(a_killed_connection_is_dropped_and_the_next_caller_reconnects) {
  fixture f("pool_test_broken");
  db::connection_pool pool(f.options(2));
  auto old_pid = backend_pid(pool);
  {
    pqxx::nontransaction tx(f.admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", old_pid);
  }
  BOOST_REQUIRE(test::wait_until([&] { return f.sessions() == 0; }, 10s));
  // The caller that finds it dead gets storage_unavailable; the pool drops it.
  auto code = error_of([&] { backend_pid(pool); });
  BOOST_TEST(code == errc::storage_unavailable);
  BOOST_TEST(pool.snapshot().open == 0);
  auto new_pid = backend_pid(pool);
  BOOST_TEST(new_pid != old_pid);
  BOOST_TEST(pool.snapshot().opened == 2);
  BOOST_TEST(f.sessions() == 1);
}

BOOST_AUTO_TEST_CASE(a_read_on_connections_that_died_idle_is_answered_on_a_new_one) {
  fixture f("pool_test_read_retry");
  db::connection_pool pool(f.options(3));
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
  }
  BOOST_REQUIRE_EQUAL(pool.snapshot().idle, 2);
  {
    pqxx::nontransaction tx(f.admin);
    tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                   "WHERE application_name = $1",
                   f.app);
  }
  BOOST_REQUIRE(test::wait_until([&] { return f.sessions() == 0; }, 10s));
  // The first connection tried is dead: dropped with the other idle one,
  // and the read runs again on a fresh connection.
  auto pid = pool.read([](pqxx::connection& c) { return backend_pid(c); });
  BOOST_TEST(pid > 0);
  BOOST_TEST(pool.snapshot().open == 1);
  BOOST_TEST(pool.snapshot().opened == 3);
  BOOST_TEST(f.sessions() == 1);
}

BOOST_AUTO_TEST_CASE(acquire_gives_up_at_its_deadline_with_a_clear_error) {
  fixture f("pool_test_deadline");
  db::connection_pool pool(f.options(2));
  auto a = pool.acquire();
  auto b = pool.acquire();
  std::string message;
  auto code = error_of([&] { pool.acquire(100ms); }, &message);
  BOOST_TEST(code == errc::storage_unavailable);
  BOOST_TEST(message.find("no connection free within 100 ms") != std::string::npos);
  BOOST_TEST(pool.snapshot().waiting == 0);
  // A returned connection goes to the next caller at once.
  { auto done = std::move(a); }
  auto c = pool.acquire(100ms);
  BOOST_TEST(pool.snapshot().opened == 2);
}

BOOST_AUTO_TEST_CASE(a_crowd_of_callers_opens_at_most_two_connections_at_a_time) {
  silent_server server;
  db::pool_options o;
  o.url = "host=127.0.0.1 port=" + std::to_string(server.port) +
          " dbname=none user=none connect_timeout=60";
  o.max_size = 16;
  o.acquire_timeout = 60s;
  db::connection_pool pool(o);
  std::atomic<int> failed{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 10; ++i)
    callers.emplace_back([&] {
      if (error_of([&] { pool.acquire(); }) == errc::storage_unavailable)
        ++failed;
    });
  BOOST_REQUIRE(test::wait_until(
    [&] {
      auto c = pool.snapshot();
      return c.connecting == 2 && c.waiting == 8;
    },
    30s));
  server.close();
  for (auto& t : callers)
    t.join();
  BOOST_TEST(failed.load() == 10);
  BOOST_TEST(pool.snapshot().open == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// A process frozen inside a transaction (SIGSTOP, a stalled VM) must not
// hold its row locks for ever: the coordinator's takeover of its jobs would
// wait on them. Every connection we open ends such a session after 5 s idle
// in a transaction, so the other writer gets the row.
BOOST_AUTO_TEST_CASE(a_transaction_left_idle_loses_its_locks) {
  fixture f("idle_tx");
  {
    pqxx::work setup(f.admin);
    setup.exec("CREATE TABLE idle_probe (id int PRIMARY KEY, v int)");
    setup.exec("INSERT INTO idle_probe VALUES (1, 0)");
    setup.commit();
  }
  auto frozen = db::connect(f.url, "idle_tx_frozen");
  pqxx::work held(*frozen);
  held.exec("UPDATE idle_probe SET v = 1 WHERE id = 1");
  // ...and the process stops answering here, its transaction open.
  auto other = db::connect(f.url, "idle_tx_other");
  pqxx::work w(*other);
  // Bounded so that a missing timeout fails instead of hanging.
  w.exec("SET LOCAL lock_timeout = '20s'");
  auto start = std::chrono::steady_clock::now();
  BOOST_CHECK_NO_THROW(w.exec("UPDATE idle_probe SET v = 2 WHERE id = 1"));
  w.commit();
  BOOST_TEST((std::chrono::steady_clock::now() - start < 20s));
  BOOST_CHECK_THROW(held.exec("SELECT 1"), pqxx::broken_connection);
}
