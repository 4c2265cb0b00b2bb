// /ready's question — does the database answer, is the schema current — with
// a bound on how long the asker waits: a database whose packets vanish must
// cost a prompt 503, not a request that hangs (and a mutex that queues every
// other /ready behind it).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace matchsync::db {

class readiness_probe {
public:
  /// Checks on a connection of its own to `url`; a caller waits at most `budget`.
  explicit readiness_probe(std::string url,
                           std::chrono::milliseconds budget = std::chrono::milliseconds(800));
  /// Does not wait for a check in flight (its thread ends when it returns).
  ~readiness_probe();
  readiness_probe(const readiness_probe&) = delete;
  readiness_probe& operator=(const readiness_probe&) = delete;

  /// Why the service is not ready, or nullopt. Starts a check unless one is
  /// in flight, and waits for a check that began after this call (or was
  /// already running) to end, at most the budget. Thread-safe.
  std::optional<std::string> operator()();

private:
  struct state;
  std::shared_ptr<state> state_;
  std::chrono::milliseconds budget_;
};

}  // namespace matchsync::db
