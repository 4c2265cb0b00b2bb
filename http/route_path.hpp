#pragma once

#include <cstddef>
#include <string_view>

namespace matchsync::http {

/// Longest request path that is matched against the routes.
///
/// Routes are matched with std::regex (httplib's router, our 405 and
/// metrics-label lookups), and libstdc++'s regex executor recurses once per
/// character a repetition consumes (GCC bug 86164). A request line may hold
/// an 8 KiB path: under ASan one of 9 KB overflowed a request thread's
/// stack, and with 512 KiB thread stacks a plain build did the same. No route
/// and no dashboard file is longer than a few dozen bytes, so a longer path
/// names nothing here and is answered 404 before any regex sees it.
constexpr std::size_t max_routed_path = 1024;

inline bool routable_path(std::string_view path) { return path.size() <= max_routed_path; }

}  // namespace matchsync::http
