#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace matchsync::http {

/// Longest path segment a route regex is run over.
///
/// Routes are matched with std::regex (httplib's router, our 405 and
/// metrics-label lookups), and libstdc++'s regex executor recurses once per
/// character it matches (GCC bug 86164): a `([^/]+)` over a segment of
/// thousands of bytes (a request line may hold 8 KiB) overflowed a request
/// thread's stack under ASan, and a plain build's with 512 KiB thread stacks.
/// Literal parts of a pattern are short, so the longest segment bounds the
/// depth.
constexpr std::size_t max_routed_segment = 64;

/// `path` with every segment longer than max_routed_segment cut to that
/// length. It routes as `path` does: no literal segment of a route or a
/// dashboard file is that long, so a long segment only ever fills a
/// `([^/]+)` id, and cut it is still no integer (more than 20 characters),
/// so the handler answers the same 422.
std::string routed_path(std::string_view path);

/// Whether no segment of `path` is longer than max_routed_segment: a path
/// the route regexes may see.
bool routable_path(std::string_view path);

}  // namespace matchsync::http
