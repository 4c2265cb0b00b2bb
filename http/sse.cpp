#include "http/sse.hpp"

#include "http/errors.hpp"
#include "http/json_views.hpp"

namespace matchsync::http {

std::string job_event(const sync_job& job) {
  // dump() escapes control characters, so the data is a single line.
  return "event: job\ndata: " + dump_json(job_view(job)) + "\n\n";
}

}  // namespace matchsync::http
