#include "persistence/readiness_probe.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "persistence/database.hpp"
#include "persistence/migrator.hpp"

namespace matchsync::db {

// Shared with the checking thread, which may outlive the probe by one check.
struct readiness_probe::state {
  explicit state(std::string url) : db(std::move(url), "matchsync-ready") {}
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t asked = 0;  // checks requested
  std::uint64_t done = 0;   // checks finished
  std::optional<std::string> result;
  bool stopping = false;
  session db;  // touched by the checking thread only
};

readiness_probe::readiness_probe(std::string url, std::chrono::milliseconds budget)
  : state_(std::make_shared<state>(std::move(url))), budget_(budget) {
  std::thread([s = state_] {
    std::unique_lock<std::mutex> lock(s->mutex);
    for (;;) {
      s->changed.wait(lock, [&] { return s->stopping || s->asked > s->done; });
      if (s->stopping)
        return;
      auto target = s->asked;
      lock.unlock();
      std::optional<std::string> why;
      try {
        s->db.run([](pqxx::connection& c) { migrator().require_current(c); });
      } catch (const std::exception& e) {
        why = e.what();
      }
      lock.lock();
      s->result = why;
      s->done = target;
      s->changed.notify_all();
    }
  }).detach();
}

readiness_probe::~readiness_probe() {
  std::lock_guard<std::mutex> guard(state_->mutex);
  state_->stopping = true;
  state_->changed.notify_all();
}

std::optional<std::string> readiness_probe::operator()() {
  auto& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  // A check already running answers for this caller too; otherwise ask.
  std::uint64_t mine = s.asked > s.done ? s.asked : ++s.asked;
  s.changed.notify_all();
  if (!s.changed.wait_for(lock, budget_, [&] { return s.done >= mine; }))
    return "database did not answer within " + std::to_string(budget_.count()) + " ms";
  return s.result;
}

}  // namespace matchsync::db
