#include "bench/support/bench_support.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <pqxx/pqxx>

#include "persistence/migrator.hpp"

namespace matchsync::bench {

double ms_between(steady::time_point a, steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

args::args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0)
      throw std::invalid_argument("unexpected argument " + a);
    if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
      values_[a.substr(2)] = argv[++i];
    else
      values_[a.substr(2)] = "1";
  }
}

std::string args::get(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

long long args::get_int(const std::string& key, long long fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : std::stoll(it->second);
}

std::string admin_url() {
  const char* url = std::getenv("MATCHSYNC_BENCH_PG_URL");
  if (url == nullptr || *url == '\0')
    throw std::runtime_error(
      "MATCHSYNC_BENCH_PG_URL is not set: run the benchmarks through bench/run.sh");
  return url;
}

std::string fresh_database(const std::string& name) {
  auto admin = admin_url();
  {
    pqxx::connection conn(admin);
    pqxx::nontransaction tx(conn);
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  }
  auto url = std::regex_replace(admin, std::regex("dbname=\\S+"), "dbname=" + name);
  pqxx::connection conn(url);
  db::migrator().apply(conn);
  return url;
}

long status_kb(int pid, const std::string& field) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status")
                            : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  return -1;
}

long self_threads() { return status_kb(0, "Threads"); }

rss_sampler::rss_sampler(std::chrono::milliseconds interval) : interval_(interval) {
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      long kb = self_rss_kb();
      samples_.push_back(kb);
      if (kb > peak_.load())
        peak_.store(kb);
      std::this_thread::sleep_for(interval_);
    }
  });
}

rss_sampler::~rss_sampler() { stop(); }

void rss_sampler::stop() {
  stop_.store(true);
  if (thread_.joinable())
    thread_.join();
}

double cpu_seconds(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : "/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(in, text);
  // The command name may hold spaces: fields are counted after its ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  // Fields 3.. follow; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i == 14 || i == 15)
      ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double runqueue_wait_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
  double on_cpu_ns = 0, waiting_ns = 0;
  if (!(in >> on_cpu_ns >> waiting_ns))
    return 0;
  return waiting_ns / 1e9;
}

std::vector<int> children_named(const std::string& comm) {
  std::vector<int> out;
  auto self = ::getpid();
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr)
    return out;
  while (auto* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0)
      continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(in, text);
    auto open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos)
      continue;
    auto name = text.substr(open + 1, close - open - 1);
    std::istringstream rest(text.substr(close + 2));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid == self && name == comm)
      out.push_back(static_cast<int>(pid));
  }
  ::closedir(dir);
  return out;
}

long pss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Pss:", 0) == 0)
      return std::strtol(line.c_str() + 4, nullptr, 10);
  return -1;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * values.size()));
  rank = std::min(std::max<std::size_t>(rank, 1), values.size());
  return values[rank - 1];
}

void result(const std::string& bench, const std::string& metric, double value,
            const std::string& unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  std::cout << "RESULT " << bench << " " << metric << " " << buf << " " << unit
            << std::endl;
}

void note(const std::string& bench, const std::string& text) {
  std::cout << "NOTE " << bench << " " << text << std::endl;
}

}  // namespace matchsync::bench
