// Child processes for integration tests: start a binary, read what it prints,
// wait for a condition with a deadline, kill it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace matchsync::test {

/// A child process whose stdout+stderr go to a log file. Killed (SIGKILL) on
/// destruction if still running. In a sanitizer build (scripts/sanitize.sh)
/// a report the child wrote fails the current test when the handle is
/// destroyed.
class child_process {
public:
  /// Starts `argv[0]` with the given arguments; `env` entries are added to
  /// (or override) the current environment.
  child_process(std::vector<std::string> argv,
                std::map<std::string, std::string> env = {},
                std::string log_path = "");
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  int pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  /// Everything the child has printed so far.
  std::string output() const;
  /// Waits until the output contains `needle`; false at the deadline.
  bool wait_for_output(const std::string& needle,
                       std::chrono::milliseconds deadline);
  /// Sends a signal (SIGTERM, SIGKILL...).
  void signal(int sig);
  /// Waits for exit; returns the exit status (128+signal when killed), or -1
  /// if still running at the deadline.
  int wait_exit(std::chrono::milliseconds deadline);
  bool running();

private:
  int pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
  std::string log_path_;
};

/// Polls `condition` every few milliseconds until it holds; false at the
/// deadline. Tests wait on conditions, never on fixed sleeps.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline);

/// The kernel's id of the calling thread (gettid).
long thread_id();

/// True while thread `tid` of this process sleeps in futex(): blocked on a
/// condition variable or a mutex. How a test knows that another thread waits
/// inside a call before it does what should wake that thread (instead of
/// sleeping and hoping).
bool blocked_in_futex(long tid);

/// Runs `call` on a thread of its own and returns once that thread sleeps
/// in futex() (the wait the test is about; BOOST_REQUIRE within 10 s).
std::thread start_blocked(std::function<void()> call);

/// The sanitizer report (ASan, UBSan, TSan) process `pid` wrote to the
/// `log_path` of ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS, or "" when it
/// wrote none (or no log_path is set).
std::string sanitizer_report(int pid);

/// A path inside the build tree for this test's files (logs, screenshots).
std::string test_output_dir(const std::string& test_name);

/// A field of /proc/PID/status as a number (kB for VmRSS, VmHWM...), -1
/// when there is none.
long proc_status(int pid, const std::string& field);

/// Absolute path of a built binary, e.g. binary_path("app/matchsync").
std::string binary_path(const std::string& relative);

}  // namespace matchsync::test
