// Event stream places: per user and in all, alone.
#define BOOST_TEST_MODULE stream_quota
#include <boost/test/unit_test.hpp>

#include "http/stream_quota.hpp"

using matchsync::http::stream_quota;
using v = stream_quota::verdict;

BOOST_AUTO_TEST_CASE(a_user_gets_four_streams_and_the_fifth_is_refused) {
  stream_quota q(16);
  for (int i = 0; i < 4; ++i)
    BOOST_TEST((q.acquire(1) == v::admitted));
  BOOST_TEST((q.acquire(1) == v::user_full));
  BOOST_TEST((q.acquire(2) == v::admitted));
  q.release(1);
  BOOST_TEST((q.acquire(1) == v::admitted));
  BOOST_TEST(q.open() == 5);
}

BOOST_AUTO_TEST_CASE(one_user_never_takes_the_whole_server_cap) {
  stream_quota q(3);
  BOOST_TEST(q.per_user() == 2);
  BOOST_TEST((q.acquire(1) == v::admitted));
  BOOST_TEST((q.acquire(1) == v::admitted));
  BOOST_TEST((q.acquire(1) == v::user_full));
  BOOST_TEST((q.acquire(2) == v::admitted));
  BOOST_TEST((q.acquire(3) == v::server_full));
  q.release(2);
  BOOST_TEST((q.acquire(3) == v::admitted));
  BOOST_TEST(stream_quota(1).per_user() == 1);
}

BOOST_AUTO_TEST_CASE(releasing_a_user_without_streams_changes_nothing) {
  stream_quota q(4);
  q.release(9);
  BOOST_TEST(q.open() == 0);
  BOOST_TEST((q.acquire(9) == v::admitted));
  BOOST_TEST(q.open() == 1);
}
