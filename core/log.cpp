#include "core/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace matchsync::log {

namespace {
std::atomic<bool> json_format{false};
std::mutex out_mutex;

const char* name(level l) {
  switch (l) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string now_iso() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}
}  // namespace

void set_json(bool json) { json_format = json; }

void write(level lvl, const std::string& message,
           std::initializer_list<field> fields) {
  std::string line;
  if (json_format) {
    line = "{\"ts\":\"" + now_iso() + "\",\"level\":\"" + name(lvl) +
           "\",\"msg\":\"" + json_escape(message) + "\"";
    for (auto& [k, v] : fields)
      line += std::string(",\"") + k + "\":\"" + json_escape(v) + "\"";
    line += "}\n";
  } else {
    line = now_iso() + " " + name(lvl) + " " + message;
    for (auto& [k, v] : fields)
      line += std::string(" ") + k + "=" + v;
    line += "\n";
  }
  std::lock_guard<std::mutex> guard(out_mutex);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace matchsync::log
