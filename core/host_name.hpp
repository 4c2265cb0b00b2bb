// The machine's name, as a node reports it to the coordinator (node_info).
#pragma once

#include <string>

namespace matchsync {

/// gethostname(), or "localhost" when it fails.
std::string host_name();

}  // namespace matchsync
