// The dashboard's files, embedded in the binary at build time
// (embed_static.cmake): the service serves what it was built with, not
// whatever a folder holds (by default the build machine's source path).
#pragma once

#include <map>
#include <string>

namespace matchsync::http {

/// File name (e.g. "app.js") -> content.
const std::map<std::string, std::string>& dashboard_files();

}  // namespace matchsync::http
