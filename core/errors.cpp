#include "core/errors.hpp"

namespace matchsync {

const char* to_string(errc code) {
  switch (code) {
    case errc::none: return "none";
    case errc::job_not_found: return "job_not_found";
    case errc::illegal_transition: return "illegal_transition";
    case errc::conflict: return "conflict";
    case errc::storage_unavailable: return "storage_unavailable";
    case errc::schema_outdated: return "schema_outdated";
    case errc::invalid_input: return "invalid_input";
    case errc::upstream_failed: return "upstream_failed";
    case errc::fenced: return "fenced";
    case errc::timeout: return "timeout";
    case errc::internal: return "internal";
    case errc::try_later: return "try_later";
  }
  return "unknown";
}

}  // namespace matchsync
