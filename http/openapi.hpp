// The OpenAPI 3 description of the API: http/openapi.json, embedded at build
// time. A test checks it against the server's route table.
#pragma once

#include <string>

namespace matchsync::http {

/// The document's text (JSON).
const std::string& openapi_document();

}  // namespace matchsync::http
