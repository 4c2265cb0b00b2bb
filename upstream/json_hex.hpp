// The four hex digits of a JSON `\uXXXX` escape, shared by the checker
// and the repair of upstream details.
#pragma once

#include <cstddef>
#include <string_view>

namespace matchsync::upstream {

/// The value of the four hex digits at `at`, or -1 when the text there is
/// not four hex digits (or ends first).
inline long hex4_at(std::string_view s, std::size_t at) {
  if (at > s.size() || s.size() - at < 4)
    return -1;
  long v = 0;
  for (std::size_t k = at; k < at + 4; ++k) {
    char c = s[k];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

}  // namespace matchsync::upstream
