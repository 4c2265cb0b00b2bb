// The user's automatic-sync schedule (SPEC §3 Schedules, §4): read and set
// straight in the schedule store; the scheduler actor runs what is due.
#include <httplib.h>

#include <chrono>

#include "core/schedule_rules.hpp"
#include "http/errors.hpp"
#include "http/json_views.hpp"
#include "http/params.hpp"
#include "http/routes.hpp"
#include "persistence/schedule_store.hpp"

namespace matchsync::http {

namespace {

db::schedule_row off(std::int64_t user_id) {
  db::schedule_row s;
  s.user_id = user_id;
  s.interval_minutes = schedule::default_interval_minutes;
  return s;
}

void get_schedule(api_context& ctx, const call& c, httplib::Response& res) {
  auto user_id = c.user().user_id;
  auto row = ctx.reads().read([&](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    return db::schedule_store::find(tx, user_id);
  });
  send_json(res, 200, schedule_view(row ? *row : off(user_id)));
}

void put_schedule(api_context& ctx, const call& c, httplib::Response& res) {
  auto body = c.req.is_multipart_form_data()
                ? parsed<schedule_request>{std::nullopt, "Request body must be a JSON object"}
                : parse_schedule_body(c.req.body);
  if (!body.ok()) {
    send_detail(res, 422, body.error);
    return;
  }
  auto user_id = c.user().user_id;
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto row = ctx.reads().read([&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    auto current = db::schedule_store::find(tx, user_id);
    auto was = current ? *current : off(user_id);
    int interval = body.value->interval_minutes.value_or(was.interval_minutes);
    std::optional<std::int64_t> next;
    if (body.value->enabled) {
      // A schedule left as it was keeps its due time; a new or changed one
      // is due at the user's next phase of the interval.
      bool same = was.enabled && was.interval_minutes == interval && was.next_run_at;
      next = same ? *was.next_run_at : schedule::next_due(now, user_id, interval);
    }
    auto stored = db::schedule_store::put(tx, user_id, body.value->enabled, interval, next);
    tx.commit();
    return stored;
  });
  send_json(res, 200, schedule_view(row));
}

}  // namespace

std::vector<route> schedule_routes(api_context& ctx) {
  return {
    make_route("GET", "/sync/schedule", "/sync/schedule", true, ctx, get_schedule),
    make_route("PUT", "/sync/schedule", "/sync/schedule", true, ctx, put_schedule),
  };
}

}  // namespace matchsync::http
