// The sync routes: trigger and cancel go through the coordinator (the rules
// live there); status is answered from the event bus's board of active jobs;
// job reads go straight to the job store; the event stream relays the bus.
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "actors/runtime.hpp"
#include "core/log.hpp"
#include "http/errors.hpp"
#include "http/json_views.hpp"
#include "http/params.hpp"
#include "http/routes.hpp"
#include "http/sse.hpp"
#include "persistence/job_store.hpp"

namespace matchsync::http {

namespace {

using json = nlohmann::ordered_json;
using steady = std::chrono::steady_clock;

constexpr int jobs_limit_default = 10;
constexpr int jobs_limit_max = 100;

runtime* require_runtime(api_context& ctx, httplib::Response& res) {
  if (ctx.svc.jobs == nullptr || ctx.stopping)
    send_detail(res, 503, "Sync jobs are not available on this node");
  return ctx.stopping ? nullptr : ctx.svc.jobs;
}

std::optional<sync_job> active_job(api_context& ctx, std::int64_t user_id) {
  return ctx.reads().read(
    [&](pqxx::connection& c) { return db::job_store(c).active_for_user(user_id); });
}

json job_or_null(const std::optional<sync_job>& job) {
  return job ? job_view(*job) : json(nullptr);
}

void trigger(api_context& ctx, const call& c, httplib::Response& res) {
  // The body is checked before anything else, conflicts included. A
  // multipart body was consumed by httplib and cannot be a JSON object.
  auto type = c.req.is_multipart_form_data()
                ? parsed<job_type>{std::nullopt, "Request body must be a JSON object"}
                : parse_trigger_body(c.req.body);
  if (!type.ok()) {
    send_detail(res, 422, type.error);
    return;
  }
  auto* jobs = require_runtime(ctx, res);
  if (jobs == nullptr)
    return;
  auto& who = c.user();
  // A conflict whose active job ended meanwhile is tried once more.
  for (int attempt = 0;; ++attempt) {
    auto r = jobs->trigger(who.user_id, who.account_id, *type.value);
    if (r.job) {
      send_json(res, 201, job_view(*r.job));
      return;
    }
    if (r.code != errc::conflict) {
      send_error(res, r.code, r.message);
      return;
    }
    auto active = active_job(ctx, who.user_id);
    if (active || attempt == 1) {
      send_json(res, 409, {{"detail", r.message}, {"active_job", job_or_null(active)}});
      return;
    }
  }
}

void cancel(api_context& ctx, const call& c, httplib::Response& res) {
  auto id = parse_id("job_id", c.req.matches[1]);
  if (!id.ok()) {
    send_detail(res, 422, id.error);
    return;
  }
  auto* jobs = require_runtime(ctx, res);
  if (jobs == nullptr)
    return;
  auto r = jobs->cancel(c.user().user_id, *id.value);
  if (r.job)
    send_json(res, 200, job_view(*r.job));
  else
    send_error(res, r.code, r.message);
}

// The body of a status answer for one board snapshot. Snapshots are
// immutable and replaced on every change, so each pool thread keeps the
// last one it rendered: polling clients of a running job get the same
// bytes until the job moves (the snapshot is held, so its address is not
// reused meanwhile).
const std::string& status_body(const std::shared_ptr<const sync_job>& active) {
  static const std::string idle = dump_json({{"is_syncing", false}, {"active_job", nullptr}});
  if (!active)
    return idle;
  thread_local std::shared_ptr<const sync_job> rendered_for;
  thread_local std::string rendered;
  if (rendered_for != active) {
    rendered = dump_json({{"is_syncing", true}, {"active_job", job_view(*active)}});
    rendered_for = active;
  }
  return rendered;
}

void status(api_context& ctx, const call& c, httplib::Response& res) {
  auto user_id = c.user().user_id;
  auto load = [&] { return active_job(ctx, user_id); };
  std::shared_ptr<const sync_job> active;
  if (ctx.svc.jobs != nullptr) {
    active = ctx.svc.jobs->bus().board().get(user_id, load);
  } else if (auto row = load()) {
    active = std::make_shared<const sync_job>(std::move(*row));
  }
  res.status = 200;
  res.set_content(status_body(active), "application/json");
}

void list_jobs(api_context& ctx, const call& c, httplib::Response& res) {
  auto limit = parse_int_param("limit", c.req.has_param("limit"),
                               c.req.get_param_value("limit"), 1, jobs_limit_max,
                               jobs_limit_default);
  if (!limit.ok()) {
    send_detail(res, 422, limit.error);
    return;
  }
  auto rows = ctx.reads().read([&](pqxx::connection& conn) {
    return db::job_store(conn).list_for_user(c.user().user_id, static_cast<int>(*limit.value));
  });
  json out = json::array();
  for (auto& job : rows)
    out.push_back(job_view(job));
  send_json(res, 200, out);
}

void get_job(api_context& ctx, const call& c, httplib::Response& res) {
  auto id = parse_id("job_id", c.req.matches[1]);
  if (!id.ok()) {
    send_detail(res, 422, id.error);
    return;
  }
  auto job = ctx.reads().read([&](pqxx::connection& conn) {
    return db::job_store(conn).find_for_user(c.user().user_id, *id.value);
  });
  if (job)
    send_json(res, 200, job_view(*job));
  else
    send_detail(res, 404, "Sync job not found");
}

// One open /sync/events stream. Lives until httplib releases the response:
// the client left (a write failed), the server stops, or the bus closed.
struct event_stream {
  api_context* ctx;
  event_bus* bus;
  std::shared_ptr<job_listener> listener;
  std::optional<sync_job> initial;
  bool greeted = false;
  steady::time_point last_write = steady::now();

  bool write(httplib::DataSink& sink, const std::string& text) {
    last_write = steady::now();
    return sink.write(text.data(), text.size());
  }

  // Called by httplib in a loop while it returns true.
  bool next(httplib::DataSink& sink) {
    if (!greeted) {
      // A heartbeat at once sends the headers, so the client knows the
      // stream is open; then the current state.
      greeted = true;
      std::string text = heartbeat_comment();
      if (initial)
        text += job_event(*initial);
      return write(sink, text);
    }
    if (ctx->stopping || listener->closed()) {
      sink.done();
      return true;
    }
    // A client that left ends the stream now, not at the next heartbeat:
    // its place counts against the user's 4.
    if (!sink.is_writable())
      return false;
    if (auto event = listener->next(ctx->stream_poll)) {
      if (auto* job = std::get_if<sync_job>(&*event))
        return write(sink, job_event(*job));
      return write(sink, wait_event(std::get<job_wait>(*event)));
    }
    if (steady::now() - last_write >= ctx->svc.sse_heartbeat)
      return write(sink, heartbeat_comment());
    return true;
  }
};

void events(api_context& ctx, const call& c, httplib::Response& res) {
  auto* jobs = require_runtime(ctx, res);
  if (jobs == nullptr)
    return;
  // Streams hold a pool thread each: beyond the caps, refuse at once so
  // plain requests always find a thread and other users a stream.
  auto user_id = c.user().user_id;
  switch (ctx.streams->acquire(user_id)) {
    case stream_quota::verdict::admitted:
      break;
    case stream_quota::verdict::user_full:
      res.set_header("Retry-After", "5");
      send_detail(res, 429, "Too many open event streams for this user (at most " +
                              std::to_string(ctx.streams->per_user()) +
                              "); close one first");
      return;
    case stream_quota::verdict::server_full:
      res.set_header("Retry-After", "5");
      send_detail(res, 503, "Too many open event streams; try again later");
      return;
  }
  ++ctx.open_streams;
  auto stream = std::make_shared<event_stream>();
  stream->ctx = &ctx;
  stream->bus = &jobs->bus();
  // Subscribe before reading the active job, so no change falls between.
  stream->listener = stream->bus->subscribe(c.user().user_id);
  try {
    stream->initial = active_job(ctx, c.user().user_id);
  } catch (...) {
    stream->bus->unsubscribe(stream->listener);
    --ctx.open_streams;
    ctx.streams->release(user_id);
    throw;
  }
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
    "text/event-stream",
    [stream](std::size_t, httplib::DataSink& sink) { return stream->next(sink); },
    // Runs when the response is destroyed, whatever ended the stream.
    [stream, user_id](bool) {
      stream->bus->unsubscribe(stream->listener);
      --stream->ctx->open_streams;
      stream->ctx->streams->release(user_id);
    });
}

}  // namespace

std::vector<route> sync_routes(api_context& ctx) {
  return {
    make_route("POST", "/sync/trigger", "/sync/trigger", true, ctx, trigger),
    make_route("POST", "/sync/cancel/([^/]+)", "/sync/cancel/{job_id}", true, ctx, cancel),
    make_route("GET", "/sync/status", "/sync/status", true, ctx, status),
    make_route("GET", "/sync/jobs", "/sync/jobs", true, ctx, list_jobs),
    make_route("GET", "/sync/jobs/([^/]+)", "/sync/jobs/{job_id}", true, ctx, get_job),
    make_route("GET", "/sync/events", "/sync/events", true, ctx, events),
  };
}

}  // namespace matchsync::http
