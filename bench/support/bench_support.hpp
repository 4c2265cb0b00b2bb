// Shared pieces of the benchmarks: the bench cluster's databases, memory and
// CPU readings from /proc, percentiles, and the RESULT lines bench/run.sh
// collects into its table. No CAF, no Boost.Test.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace matchsync::bench {

using steady = std::chrono::steady_clock;

/// Milliseconds between two steady-clock points.
double ms_between(steady::time_point a, steady::time_point b);

/// `--key value` pairs of the command line; `get` falls back to `fallback`.
class args {
public:
  args(int argc, char** argv);
  std::string get(const std::string& key, const std::string& fallback) const;
  long long get_int(const std::string& key, long long fallback) const;

private:
  std::map<std::string, std::string> values_;
};

/// The bench cluster's admin connection string: MATCHSYNC_BENCH_PG_URL
/// (bench/run.sh sets it). Throws when unset.
std::string admin_url();

/// Drops and creates database `name` in the bench cluster, applies every
/// migration and returns its connection string.
std::string fresh_database(const std::string& name);

/// A field of /proc/PID/status in kB (VmRSS, VmHWM...), -1 when missing.
long status_kb(int pid, const std::string& field);
inline long self_rss_kb() { return status_kb(0, "VmRSS"); }
inline long self_hwm_kb() { return status_kb(0, "VmHWM"); }
/// Threads of this process.
long self_threads();

/// Samples this process's VmRSS in a thread every `interval` and keeps the
/// peak, from construction to `stop()`.
class rss_sampler {
public:
  explicit rss_sampler(std::chrono::milliseconds interval = std::chrono::milliseconds(10));
  ~rss_sampler();
  void stop();
  long peak_kb() const { return peak_.load(); }
  /// The samples taken (kB), in order; only after stop().
  const std::vector<long>& samples() const { return samples_; }

private:
  std::chrono::milliseconds interval_;
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::vector<long> samples_;
  std::thread thread_;
};

/// User + system CPU seconds of a process (0 = this one) from /proc/PID/stat.
double cpu_seconds(int pid);

/// Seconds a process's main thread spent runnable but waiting for a CPU
/// (/proc/PID/schedstat, field 2): how much a busy machine delayed it.
double runqueue_wait_seconds(int pid);

/// Children of this process whose command name is `comm`.
std::vector<int> children_named(const std::string& comm);

/// Proportional set size of a process in kB (smaps_rollup Pss), -1 if
/// unreadable: what a process really adds, shared pages split among sharers.
long pss_kb(int pid);

/// The p-th percentile (0..100, nearest rank) of `values`; 0 when empty.
double percentile(std::vector<double> values, double p);

/// Prints `RESULT bench metric value unit` to stdout: the line bench/run.sh
/// tabulates.
void result(const std::string& bench, const std::string& metric, double value,
            const std::string& unit);
/// Prints `NOTE bench text` (a finding that is not a number).
void note(const std::string& bench, const std::string& text);

}  // namespace matchsync::bench
