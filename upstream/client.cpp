#include "upstream/client.hpp"

namespace matchsync::upstream {

const char* to_string(result_kind kind) {
  switch (kind) {
    case result_kind::ok:
      return "ok";
    case result_kind::not_found:
      return "not_found";
    case result_kind::daily_limit:
      return "daily_limit";
    case result_kind::failed:
      return "failed";
    case result_kind::cancelled:
      return "cancelled";
  }
  return "unknown";
}

const char* to_string(wait_notice::cause why) {
  return why == wait_notice::cause::budget ? "budget" : "rate_limited";
}

}  // namespace matchsync::upstream
