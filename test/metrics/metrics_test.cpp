// The process's Prometheus series, as /metrics serializes them: the HTTP
// series are counted per (method, route, status) from many threads at once.
#define BOOST_TEST_MODULE metrics
#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.hpp"

namespace {

// The value of the one sample line starting with `series` (name and labels,
// exactly as serialized), or -1 when there is none.
double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

BOOST_AUTO_TEST_CASE(http_requests_are_counted_per_method_route_and_status_across_threads) {
  matchsync::metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i)
        m.http_request("GET", "/sync/status", (t % 2 == 0 || i % 10 != 0) ? 200 : 401, 0.0002);
    });
  for (auto& t : threads)
    t.join();
  m.http_request("POST", "/sync/status", 405, 0.003);
  auto text = m.serialize();
  // Threads 1, 3, 5, 7 answered 401 every tenth request: 4 x 100.
  BOOST_TEST(sample(text, R"(matchsync_http_requests_total{method="GET",route="/sync/status",status="200"})") == 7600);
  BOOST_TEST(sample(text, R"(matchsync_http_requests_total{method="GET",route="/sync/status",status="401"})") == 400);
  BOOST_TEST(sample(text, R"(matchsync_http_requests_total{method="POST",route="/sync/status",status="405"})") == 1);
  // The latency histogram is per route: every request of the route, any status.
  BOOST_TEST(sample(text, R"(matchsync_http_request_duration_seconds_count{route="/sync/status"})") == 8001);
  BOOST_TEST(sample(text, R"(matchsync_http_request_duration_seconds_bucket{route="/sync/status",le="0.0005"})") == 8000);
}

BOOST_AUTO_TEST_CASE(the_jobs_gauge_shows_the_coordinators_counts_once_loaded) {
  using namespace matchsync;
  metrics m;
  // Not loaded yet (a worker process, or before the start's count): no series.
  BOOST_TEST(m.serialize().find("matchsync_jobs{") == std::string::npos);
  m.jobs().load({{job_type::full_sync, job_status::completed, 3}}, {});
  sync_job j;
  j.id = 1;
  j.type = job_type::incremental_sync;
  j.status = job_status::pending;
  m.jobs().apply(j);
  auto text = m.serialize();
  BOOST_TEST(sample(text, R"(matchsync_jobs{status="completed",type="full_sync"})") == 3);
  BOOST_TEST(sample(text, R"(matchsync_jobs{status="pending",type="incremental_sync"})") == 1);
  BOOST_TEST(sample(text, R"(matchsync_jobs{status="cancelled",type="incremental_sync"})") == 0);
  j.status = job_status::running;
  m.jobs().apply(j);
  text = m.serialize();
  BOOST_TEST(sample(text, R"(matchsync_jobs{status="pending",type="incremental_sync"})") == 0);
  BOOST_TEST(sample(text, R"(matchsync_jobs{status="running",type="incremental_sync"})") == 1);
}

BOOST_AUTO_TEST_CASE(repaired_details_are_counted) {
  matchsync::metrics m;
  BOOST_TEST(sample(m.serialize(), "matchsync_upstream_details_repaired_total") == 0);
  m.details_repaired(2);
  m.details_repaired(0);
  m.details_repaired(1);
  BOOST_TEST(sample(m.serialize(), "matchsync_upstream_details_repaired_total") == 3);
}
