// The cluster transport alone: a connect to a peer that accepts and never
// answers ends at its deadline (CAF's remote_actor would wait for ever).
#define BOOST_TEST_MODULE cluster_transport
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/cluster_transport.hpp"

using namespace matchsync;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(cluster_transport)

BOOST_AUTO_TEST_CASE(a_connect_to_a_silent_peer_fails_at_its_deadline) {
  // The kernel completes the TCP handshake from the backlog; nobody answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  BOOST_REQUIRE(::listen(fd, 8) == 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  config cfg;
  caf::actor_system system(cluster_actor_config(cfg));
  auto t0 = std::chrono::steady_clock::now();
  auto peer = connect_cluster(system, "127.0.0.1", ntohs(addr.sin_port), cfg, 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(!peer);
  BOOST_TEST((took < 10s));
  ::close(fd);
}

BOOST_AUTO_TEST_SUITE_END()
