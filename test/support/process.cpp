#include "test/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace matchsync::test {

namespace {
std::string fresh_log_path() {
  static std::atomic<int> counter{0};
  auto dir = test_output_dir("processes");
  return dir + "/child-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++) + ".log";
}
}  // namespace

child_process::child_process(std::vector<std::string> argv,
                             std::map<std::string, std::string> env,
                             std::string log_path)
  : log_path_(log_path.empty() ? fresh_log_path() : std::move(log_path)) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos)
      merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : env)
    merged[k] = v;
  std::vector<std::string> env_strings;
  for (auto& [k, v] : merged)
    env_strings.push_back(k + "=" + v);

  int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot open log " + log_path_);
  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close(fd);
    ::setpgid(0, 0);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envs;
    for (auto& e : env_strings)
      envs.push_back(const_cast<char*>(e.c_str()));
    envs.push_back(nullptr);
    ::execve(args[0], args.data(), envs.data());
    ::_exit(127);
  }
  ::close(fd);
}

child_process::~child_process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  // A child's report would otherwise only surface after the whole run
  // (scripts/sanitize.sh): fail the test that started it.
  auto report = sanitizer_report(pid_);
  // UBSan's reports (GCC's libubsan beside ASan) reach the child's stderr,
  // not the log_path file: look for their "FILE:LINE:COL: runtime error:".
  if (report.empty()) {
    // (A plain search: std::regex recurses per character on a long log.)
    auto text = output();
    auto at = text.find(": runtime error: ");
    if (at != std::string::npos) {
      auto line = text.rfind('\n', at);
      report = text.substr(line == std::string::npos ? 0 : line + 1, 4000);
    }
  }
  if (!report.empty()) {
    std::cerr << "sanitizer report of child " << pid_ << " (" << log_path_
              << "):\n" << report << std::flush;
    BOOST_ERROR("child process " + std::to_string(pid_) +
                " wrote a sanitizer report (above)");
  }
}

std::string child_process::output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool child_process::wait_for_output(const std::string& needle,
                                    std::chrono::milliseconds deadline) {
  return wait_until(
    [&] { return output().find(needle) != std::string::npos; }, deadline);
}

void child_process::signal(int sig) {
  if (!exited_)
    ::kill(pid_, sig);
}

bool child_process::running() {
  if (exited_)
    return false;
  int status = 0;
  auto r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

int child_process::wait_exit(std::chrono::milliseconds deadline) {
  if (wait_until([&] { return !running(); }, deadline))
    return status_;
  return -1;
}

bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= end)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

long thread_id() { return ::syscall(SYS_gettid); }

bool blocked_in_futex(long tid) {
  // First field of /proc/.../syscall: the number of the system call the
  // thread sleeps in.
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/syscall");
  std::string nr;
  return in >> nr && nr == std::to_string(SYS_futex);
}

std::thread start_blocked(std::function<void()> call) {
  // Shared: a thread that fails to block outlives this call (detached).
  auto tid = std::make_shared<std::atomic<long>>(0);
  std::thread t([tid, call = std::move(call)] {
    *tid = thread_id();
    call();
  });
  if (!wait_until([&] { return *tid != 0 && blocked_in_futex(*tid); },
                  std::chrono::seconds(10))) {
    t.detach();
    BOOST_FAIL("the thread never blocked in futex()");
  }
  return t;
}

std::string sanitizer_report(int pid) {
  std::string all;
  for (const char* var : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    const char* options = std::getenv(var);
    if (options == nullptr)
      continue;
    // Options are `key=value` pairs separated by ':' (or spaces).
    std::string text = options;
    auto at = text.find("log_path=");
    if (at == std::string::npos || (at > 0 && text[at - 1] != ':' && text[at - 1] != ' '))
      continue;
    auto start = at + 9;
    auto end = text.find_first_of(": ", start);
    auto prefix = text.substr(start, end == std::string::npos ? end : end - start);
    std::ifstream in(prefix + "." + std::to_string(pid));
    if (!in)
      continue;
    std::stringstream ss;
    ss << in.rdbuf();
    if (all.find(ss.str()) == std::string::npos)
      all += ss.str();
  }
  return all;
}

std::string test_output_dir(const std::string& test_name) {
  std::string dir = std::string(MATCHSYNC_BINARY_DIR) + "/test-output/" +
                    test_name;
  std::string cmd = "mkdir -p '" + dir + "'";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("cannot create " + dir);
  return dir;
}

long proc_status(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stol(line.substr(field.size() + 1));
  return -1;
}

std::string binary_path(const std::string& relative) {
  return std::string(MATCHSYNC_BINARY_DIR) + "/" + relative;
}

}  // namespace matchsync::test
