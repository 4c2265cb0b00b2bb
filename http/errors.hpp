// The one mapping from domain errors to HTTP answers: a status and a
// {"detail": ...} body. Every error answer of the API goes through here.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/errors.hpp"

namespace httplib {
struct Response;
}

namespace matchsync::http {

/// The HTTP status for a domain error code (SPEC §4).
int status_of(errc code);

/// The detail shown to the client for `code`: the domain message, except for
/// failures whose message could leak internals (database, bugs).
std::string detail_of(errc code, const std::string& message);

/// The standard reason phrase used as detail when there is nothing better.
const char* reason_of(int status);

/// Serialises JSON for the wire; invalid UTF-8 from stored data is replaced
/// rather than thrown on.
std::string dump_json(const nlohmann::ordered_json& body);

/// Sets `status` and a JSON body.
void send_json(httplib::Response& res, int status, const nlohmann::ordered_json& body);
/// Sets `status` and {"detail": detail}.
void send_detail(httplib::Response& res, int status, const std::string& detail);
/// The answer for a domain error (logged when it is the server's fault).
void send_error(httplib::Response& res, errc code, const std::string& message);

}  // namespace matchsync::http
