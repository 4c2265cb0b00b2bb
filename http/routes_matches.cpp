// The match routes: plain reads of the user's own account, straight from the
// match store.
#include <httplib.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "http/errors.hpp"
#include "http/json_views.hpp"
#include "http/params.hpp"
#include "http/routes.hpp"
#include "persistence/match_store.hpp"

namespace matchsync::http {

namespace {

using json = nlohmann::ordered_json;

constexpr int matches_limit_default = 50;
constexpr int matches_limit_max = 500;

void list_matches(api_context& ctx, const call& c, httplib::Response& res) {
  auto& q = c.req;
  auto limit = parse_int_param("limit", q.has_param("limit"), q.get_param_value("limit"), 1,
                               matches_limit_max, matches_limit_default);
  if (!limit.ok()) {
    send_detail(res, 422, limit.error);
    return;
  }
  auto offset = parse_int_param("offset", q.has_param("offset"), q.get_param_value("offset"),
                                0, std::numeric_limits<int>::max(), 0);
  if (!offset.ok()) {
    send_detail(res, 422, offset.error);
    return;
  }
  auto rows = ctx.reads().read([&](pqxx::connection& conn) {
    return db::match_store(conn).list(c.user().account_id, static_cast<int>(*limit.value),
                                      static_cast<int>(*offset.value));
  });
  json out = json::array();
  for (auto& m : rows)
    out.push_back(match_view(m, false));
  send_json(res, 200, out);
}

void get_match(api_context& ctx, const call& c, httplib::Response& res) {
  auto id = parse_id("match_id", c.req.matches[1]);
  if (!id.ok()) {
    send_detail(res, 422, id.error);
    return;
  }
  auto m = ctx.reads().read([&](pqxx::connection& conn) {
    return db::match_store(conn).get(c.user().account_id, *id.value);
  });
  if (m)
    send_json(res, 200, match_view(*m, true));
  else
    send_detail(res, 404, "Match not found");
}

void stats_summary(api_context& ctx, const call& c, httplib::Response& res) {
  auto s = ctx.reads().read(
    [&](pqxx::connection& conn) { return db::match_store(conn).stats(c.user().account_id); });
  send_json(res, 200, stats_view(s));
}

}  // namespace

std::vector<route> match_routes(api_context& ctx) {
  return {
    make_route("GET", "/matches", "/matches", true, ctx, list_matches),
    make_route("GET", "/matches/([^/]+)", "/matches/{match_id}", true, ctx, get_match),
    make_route("GET", "/stats/summary", "/stats/summary", true, ctx, stats_summary),
  };
}

}  // namespace matchsync::http
