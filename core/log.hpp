// A small structured logger: one line per event, text or JSON
// (MATCHSYNC_LOG_FORMAT). Never pass a secret (token, key, password) to it.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

namespace matchsync::log {

enum class level { debug, info, warn, error };

void set_json(bool json);

using field = std::pair<const char*, std::string>;

/// Writes `message` with key=value fields to stderr.
void write(level lvl, const std::string& message,
           std::initializer_list<field> fields = {});

inline void info(const std::string& m, std::initializer_list<field> f = {}) {
  write(level::info, m, f);
}
inline void warn(const std::string& m, std::initializer_list<field> f = {}) {
  write(level::warn, m, f);
}
inline void error(const std::string& m, std::initializer_list<field> f = {}) {
  write(level::error, m, f);
}

}  // namespace matchsync::log
