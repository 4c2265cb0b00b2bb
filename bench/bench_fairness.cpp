// Issue 19: how long a small incremental (a list request, then 5 details on
// 4 lanes: 6 requests) takes while 15 full syncs (4 lanes each, always
// asking) share the upstream budget with it, at 60/min and 1,200/min.
// Simulated: the real local_rate_budget with real threads, on a manual
// clock that moves only when every thread sleeps (a round trip is 200 ms of
// it); a real run at 60/min would take many minutes per figure. No database.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test/upstream/fair_streams.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/rate_budget.hpp"

using matchsync::upstream::cancel_token;
using matchsync::upstream::local_rate_budget;
using clock_type = matchsync::upstream::time_source::clock;

namespace {

struct run_figures {
  std::vector<std::pair<double, double>> incrementals;  // (arrival s, took s)
  int share_min = 0, share_max = 0;
  double wall_s = 0;
};

// `arrivals`: when each incremental starts, in seconds after the full syncs.
run_figures run(int rate, clock_type::duration length, const std::vector<double>& arrivals) {
  std::vector<std::chrono::steady_clock::duration> at;
  for (double a : arrivals)
    at.push_back(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(a)));
  auto began = std::chrono::steady_clock::now();
  auto streams = matchsync::test::run_streams(rate, length, at);
  if (streams.stalled) {
    std::fprintf(stderr, "stalled\n");
    std::exit(1);
  }
  run_figures out;
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  for (std::size_t i = 0; i < arrivals.size(); ++i)
    out.incrementals.emplace_back(
      arrivals[i],
      std::chrono::duration<double>(streams.finished[matchsync::test::first_incremental + i] -
                                    (streams.began + at[i]))
        .count());
  std::map<std::uint64_t, int> full;
  for (auto& g : streams.grants)
    if (g.job < matchsync::test::first_incremental && g.at < streams.began + length)
      ++full[g.job];
  out.share_min = 1 << 30;
  for (auto& [job, n] : full) {
    out.share_min = std::min(out.share_min, n);
    out.share_max = std::max(out.share_max, n);
  }
  return out;
}

void report(const char* name, int rate, const run_figures& f) {
  std::vector<double> warm;  // full syncs running 60 s or more
  for (auto& [arrival, took] : f.incrementals) {
    std::printf("NOTE fairness rate %d: incremental at %.0f s took %.1f s\n", rate, arrival,
                took);
    if (arrival >= 60)
      warm.push_back(took);
  }
  std::sort(warm.begin(), warm.end());
  if (!warm.empty()) {
    std::printf("RESULT fairness %s_incremental_median %.1f s\n", name, warm[warm.size() / 2]);
    std::printf("RESULT fairness %s_incremental_max %.1f s\n", name, warm.back());
  }
  std::printf("RESULT fairness %s_incremental_at_10s %.1f s\n", name, f.incrementals[0].second);
  std::printf("RESULT fairness %s_full_sync_share_min %d requests\n", name, f.share_min);
  std::printf("RESULT fairness %s_full_sync_share_max %d requests\n", name, f.share_max);
  std::printf("NOTE fairness rate %d simulated in %.1f s of real time\n", rate, f.wall_s);
}

// The cost of handing slots out by job on the steady clock: every waiting
// request wakes at each slot (the budget decides at the slot, not on
// arrival). `jobs` full syncs x 4 lanes wait at `rate` for `seconds`; CPU
// of this process per second of wall time.
void real_clock_cost(int rate, int seconds, int jobs) {
  local_rate_budget budget(rate);
  cancel_token stop;
  std::atomic<long> granted{0};
  std::vector<std::thread> threads;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  auto began = std::chrono::steady_clock::now();
  for (std::uint64_t job = 1; job <= static_cast<std::uint64_t>(jobs); ++job)
    for (int lane = 0; lane < 4; ++lane)
      threads.emplace_back([&, job] {
        while (budget.acquire_as(job, stop))
          ++granted;
      });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop.cancel();
  for (auto& t : threads)
    t.join();
  rusage after{};
  getrusage(RUSAGE_SELF, &after);
  auto cpu = [](const rusage& r) {
    return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::printf("RESULT fairness real_clock_rate%d_jobs%d_grants_per_s %.1f grants\n", rate,
              jobs, granted.load() / wall);
  std::printf("RESULT fairness real_clock_rate%d_jobs%d_cpu %.2f %%_of_a_core\n", rate, jobs,
              100.0 * (cpu(after) - cpu(before)) / wall);
}

}  // namespace

int main(int argc, char** argv) {
  int minutes = 5;
  std::string part = "all";  // cost | sim | all
  for (int i = 1; i + 1 < argc; i += 2)
    if (std::strcmp(argv[i], "--minutes") == 0)
      minutes = std::max(2, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--part") == 0)
      part = argv[i + 1];
  // One at 10 s (the full syncs still young), then one every 20 s from a
  // minute on, each alone by the time the next comes.
  std::vector<double> arrivals{10};
  for (double t = 60; t + 40 <= minutes * 60; t += 20)
    arrivals.push_back(t);
  if (part != "sim")
    for (int jobs : {15, 250})
      real_clock_cost(1200, 10, jobs);
  if (part == "cost")
    return 0;
  for (int rate : {60, 1200}) {
    auto f = run(rate, std::chrono::minutes(minutes), arrivals);
    report(rate == 60 ? "rate60" : "rate1200", rate, f);
  }
  return 0;
}
