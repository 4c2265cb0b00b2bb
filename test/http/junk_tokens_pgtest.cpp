// Bearer values that cannot be tokens cost no database query, and unknown
// well-formed ones one at most, against the real server; real reads go on.
#define BOOST_TEST_MODULE junk_tokens
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

#include "test/http/api_harness.hpp"

using namespace matchsync::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(a_flood_of_junk_tokens_does_no_query_and_real_reads_answer) {
  api_harness::options o;
  o.database = "http_junk_tokens";
  api_harness node(o);
  auto u = node.add_user(1401);
  client real(node.port(), u.token);
  BOOST_REQUIRE_EQUAL(real.get("/sync/jobs").status, 200);
  auto reads_before = node.node().server().database_reads();

  // 2,000 requests with 20 kinds of junk, over keep-alive connections.
  std::vector<std::string> junk;
  for (int i = 0; i < 20; ++i) {
    switch (i % 4) {
      case 0: junk.push_back(std::string(10 + i, 'a')); break;                // too short
      case 1: junk.push_back(std::string(63, 'a') + "Z"); break;              // alphabet
      case 2: junk.push_back(u.token + std::to_string(i)); break;             // too long
      default: junk.push_back(std::string(64, 'g') + std::to_string(i)); break;
    }
  }
  std::atomic<int> refused{0}, other{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < 4; ++t)
    flood.emplace_back([&, t] {
      for (int k = t; k < 20; k += 4) {
        keep_alive_client c(node.port(), junk[static_cast<std::size_t>(k)]);
        for (int i = 0; i < 100; ++i) {
          auto r = c.get("/sync/jobs");
          (r.status == 401 ? refused : other)++;
        }
      }
    });
  int real_reads = 0;
  while (refused + other < 2000) {
    BOOST_TEST(real.get("/sync/jobs").status == 200);
    ++real_reads;
  }
  for (auto& t : flood)
    t.join();
  BOOST_TEST(refused == 2000);
  BOOST_TEST(other == 0);
  auto reads = node.node().server().database_reads() - reads_before;
  BOOST_TEST_MESSAGE(real_reads << " real reads, " << reads << " database uses in all");
  // Each real read is one database use, its token lookup at most one more
  // each 500 ms; the junk none.
  BOOST_TEST(reads <= real_reads + 30);

  // A well-formed unknown token is asked once, then remembered.
  auto before = node.node().server().database_reads();
  client unknown(node.port(), std::string(64, 'c'));
  for (int i = 0; i < 50; ++i)
    BOOST_TEST(unknown.get("/sync/status").status == 401);
  BOOST_TEST(node.node().server().database_reads() - before == 1);
}

