#include "persistence/startup_wait.hpp"

#include <algorithm>

namespace matchsync::db {

std::chrono::milliseconds startup_retry_delay(int failures) {
  auto n = std::clamp(failures, 1, 5);
  return std::min(std::chrono::milliseconds(500 << (n - 1)), std::chrono::milliseconds(5000));
}

bool startup_failure_is_permanent(const std::string& message) {
  // A database that is starting says "the database system is starting up"
  // and one that is full "too many clients": both pass, so they are waited
  // for; these do not.
  for (const char* sign : {"authentication failed", "does not exist", "no pg_hba.conf entry",
                           "invalid connection option", "invalid URI", "missing \"=\""})
    if (message.find(sign) != std::string::npos)
      return true;
  return false;
}

}  // namespace matchsync::db
