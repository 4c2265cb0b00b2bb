#include "http/errors.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

namespace matchsync::http {

int status_of(errc code) {
  switch (code) {
    case errc::none: return 200;
    case errc::job_not_found: return 404;
    case errc::illegal_transition: return 400;
    case errc::conflict: return 409;
    case errc::invalid_input: return 422;
    // Temporary: the client may retry (the coordinator's timeout included,
    // it is ours and not a gateway's).
    case errc::storage_unavailable: return 503;
    case errc::schema_outdated: return 503;
    case errc::timeout: return 503;
    case errc::try_later: return 503;
    case errc::upstream_failed: return 502;
    case errc::fenced: return 409;
    case errc::internal: return 500;
  }
  return 500;
}

std::string detail_of(errc code, const std::string& message) {
  switch (code) {
    case errc::storage_unavailable: return "Database unavailable";
    case errc::internal: return "Internal server error";
    default: return message.empty() ? reason_of(status_of(code)) : message;
  }
}

const char* reason_of(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Not authenticated";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request body too large";
    case 414: return "Request URI too long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal server error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return status >= 500 ? "Server error" : "Error";
  }
}

std::string dump_json(const nlohmann::ordered_json& body) {
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void send_detail(httplib::Response& res, int status, const std::string& detail) {
  send_json(res, status, {{"detail", detail}});
}

void send_error(httplib::Response& res, errc code, const std::string& message) {
  int status = status_of(code);
  if (status >= 500)
    log::warn("request failed", {{"error", to_string(code)}, {"message", message}});
  send_detail(res, status, detail_of(code, message));
}

}  // namespace matchsync::http
