// Bounds added to connection strings: both forms, and what the user set wins.
#define BOOST_TEST_MODULE connection_string
#include <boost/test/unit_test.hpp>

#include "persistence/connection_string.hpp"

using matchsync::db::bounded_connection_string;

BOOST_AUTO_TEST_CASE(a_key_value_string_gets_every_bound) {
  auto s = bounded_connection_string("host=/tmp port=5432 dbname=x");
  BOOST_TEST(s == "host=/tmp port=5432 dbname=x connect_timeout=3 keepalives=1 "
                  "keepalives_idle=5 keepalives_interval=2 keepalives_count=3 "
                  "tcp_user_timeout=10000 options='-c statement_timeout=60000 "
                  "-c idle_in_transaction_session_timeout=5000'");
}

BOOST_AUTO_TEST_CASE(a_url_gets_every_bound_as_query_parameters) {
  BOOST_TEST(bounded_connection_string("postgresql://u@h:5/db") ==
             "postgresql://u@h:5/db?connect_timeout=3&keepalives=1&keepalives_idle=5&"
             "keepalives_interval=2&keepalives_count=3&tcp_user_timeout=10000&"
             "options=-c%20statement_timeout%3D60000%20"
             "-c%20idle_in_transaction_session_timeout%3D5000");
  BOOST_TEST(bounded_connection_string("postgres://h/db?sslmode=disable").find(
               "?sslmode=disable&connect_timeout=3&") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(what_the_string_sets_itself_is_kept) {
  auto s = bounded_connection_string("dbname=x connect_timeout = 9 options='-c search_path=a'");
  BOOST_TEST(s.find("connect_timeout=3") == std::string::npos);
  BOOST_TEST(s.find("statement_timeout") == std::string::npos);
  BOOST_TEST(s.find("idle_in_transaction") == std::string::npos);
  BOOST_TEST(s.find("keepalives=1") != std::string::npos);
  auto u = bounded_connection_string("postgresql://h/db?keepalives_idle=30");
  BOOST_TEST(u.find("keepalives_idle=5") == std::string::npos);
  BOOST_TEST(u.find("keepalives_idle=30&keepalives=1") == std::string::npos);
  BOOST_TEST(u.find("&keepalives=1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_key_inside_another_word_does_not_count) {
  auto s = bounded_connection_string("dbname=myconnect_timeout");
  BOOST_TEST(s.find(" connect_timeout=3") != std::string::npos);
}
