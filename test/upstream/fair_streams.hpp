// Jobs' request streams on one local_rate_budget, on a manual clock: 15
// full syncs (jobs 1..15, 4 lanes each, always asking, a 200 ms round trip
// between a lane's requests) and small incrementals (jobs 1000, 1001, ...:
// one list request, then 5 details on 4 lanes: 6 requests; declared small,
// as job_context::budget_for declares incrementals), each starting at its
// own time. The clock moves only when every thread sleeps, to the
// earliest deadline, so each grant is seen at its slot. Shared by
// fair_budget_test and bench_fairness.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "test/upstream/manual_time_source.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync::test {

struct stream_grant {
  std::uint64_t job;
  upstream::time_source::clock::time_point at;
};

struct stream_run {
  upstream::time_source::clock::time_point began;
  std::vector<stream_grant> grants;  // in the order seen
  /// Each incremental's last answer (its last grant plus a round trip).
  std::map<std::uint64_t, upstream::time_source::clock::time_point> finished;
  bool stalled = false;
};

constexpr std::uint64_t first_incremental = 1000;

/// Full syncs ask until `length` has passed; incremental i starts at
/// `began + incremental_at[i]`.
inline stream_run run_streams(int rate, std::chrono::steady_clock::duration length,
                              const std::vector<std::chrono::steady_clock::duration>& incremental_at) {
  using namespace std::chrono_literals;
  manual_time_source time;
  upstream::local_rate_budget budget(rate, time);
  stream_run out;
  out.began = time.now();
  const auto end = out.began + length;
  const auto round_trip = 200ms;
  std::mutex mutex;
  std::atomic<int> alive{0};
  std::vector<std::thread> threads;
  auto note = [&](std::uint64_t job) {
    std::lock_guard<std::mutex> lock(mutex);
    out.grants.push_back({job, time.now()});
  };
  auto done = [&] {
    --alive;
    time.poke();
  };
  for (std::uint64_t job = 1; job <= 15; ++job)
    for (int lane = 0; lane < 4; ++lane) {
      ++alive;
      threads.emplace_back([&, job] {
        upstream::cancel_token token;
        while (time.now() < end && budget.acquire_as(job, token)) {
          note(job);
          time.sleep_until(time.now() + round_trip, token);
        }
        done();
      });
    }
  struct incremental {
    std::atomic<bool> listed{false};
    std::atomic<int> details_left{5};
  };
  std::vector<std::unique_ptr<incremental>> incs;
  for (std::size_t i = 0; i < incremental_at.size(); ++i) {
    incs.push_back(std::make_unique<incremental>());
    auto job = first_incremental + i;
    auto at = out.began + incremental_at[i];
    for (int lane = 0; lane < 4; ++lane) {
      ++alive;
      threads.emplace_back([&, job, at, lane, inc = incs.back().get()] {
        upstream::cancel_token token;
        time.sleep_until(at, token);
        const upstream::job_claim me(job, true);
        if (lane == 0 && budget.acquire_as(me, token)) {
          note(job);
          time.sleep_until(time.now() + round_trip, token);
          inc->listed = true;
        }
        // The other lanes look for the list's answer every 100 ms (a sleep,
        // so that the clock can move).
        while (!inc->listed)
          time.sleep_until(time.now() + 100ms, token);
        while (inc->details_left.fetch_sub(1) > 0 && budget.acquire_as(me, token)) {
          note(job);
          time.sleep_until(time.now() + round_trip, token);
        }
        {
          std::lock_guard<std::mutex> lock(mutex);
          out.finished[job] = std::max(out.finished[job], time.now());
        }
        done();
      });
    }
  }
  while (alive > 0) {
    if (!time.wait_for_sleepers([&] { return static_cast<std::size_t>(alive.load()); },
                                std::chrono::seconds(60))) {
      out.stalled = true;
      // Let every thread out: nothing more will be granted.
      time.advance(std::chrono::hours(24 * 365));
      break;
    }
    if (auto next = time.next_deadline())
      time.advance_to(*next);
  }
  for (auto& t : threads)
    t.join();
  return out;
}

}  // namespace matchsync::test
