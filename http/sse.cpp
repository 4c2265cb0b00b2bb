#include "http/sse.hpp"

#include "http/errors.hpp"
#include "http/json_views.hpp"

namespace matchsync::http {

std::string job_event(const sync_job& job) {
  // dump() escapes control characters, so the data is a single line.
  return "event: job\ndata: " + dump_json(job_view(job)) + "\n\n";
}

std::string wait_event(const job_wait& wait) {
  nlohmann::ordered_json body = {{"job_id", wait.job_id},
                                 {"reason", wait.reason},
                                 {"seconds", static_cast<double>(wait.wait_ms) / 1000.0},
                                 {"waits", wait.waits}};
  return "event: wait\ndata: " + dump_json(body) + "\n\n";
}

}  // namespace matchsync::http
