// The rules of waiting for the database at start, alone: the backoff, and
// which of libpq's failures no wait can mend.
#define BOOST_TEST_MODULE startup_wait
#include <boost/test/unit_test.hpp>

#include "persistence/startup_wait.hpp"

using namespace matchsync::db;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(the_wait_doubles_from_half_a_second_to_five) {
  BOOST_TEST(startup_retry_delay(1).count() == 500);
  BOOST_TEST(startup_retry_delay(2).count() == 1000);
  BOOST_TEST(startup_retry_delay(3).count() == 2000);
  BOOST_TEST(startup_retry_delay(4).count() == 4000);
  BOOST_TEST(startup_retry_delay(5).count() == 5000);
  BOOST_TEST(startup_retry_delay(1000).count() == 5000);  // no overflow
  BOOST_TEST(startup_retry_delay(0).count() == 500);
}

BOOST_AUTO_TEST_CASE(a_server_that_is_down_starting_or_full_is_waited_for) {
  // libpq's own words (PostgreSQL 15).
  for (const char* m :
       {"connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: timeout "
        "expired",
        "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n\tIs the "
        "server running on that host and accepting TCP/IP connections?",
        "connection to server at \"db\", port 5432 failed: FATAL:  the database system is "
        "starting up",
        "connection to server at \"db\", port 5432 failed: FATAL:  sorry, too many clients "
        "already"})
    BOOST_TEST(!startup_failure_is_permanent(m), m);
}

BOOST_AUTO_TEST_CASE(a_wrong_password_role_database_or_hba_entry_is_said_at_once) {
  for (const char* m :
       {"connection to server at \"db\", port 5432 failed: FATAL:  password authentication "
        "failed for user \"matchsync\"",
        "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  role \"nobody\" "
        "does not exist",
        "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  database "
        "\"matchsnc\" does not exist",
        "connection to server at \"10.0.0.5\", port 5432 failed: FATAL:  no pg_hba.conf entry "
        "for host \"10.0.0.9\", user \"matchsync\", database \"matchsync\", no encryption",
        "invalid connection option \"hots\""})
    BOOST_TEST(startup_failure_is_permanent(m), m);
}
