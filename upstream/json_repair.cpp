#include "upstream/json_repair.hpp"

#include "upstream/json_hex.hpp"

namespace matchsync::upstream {

namespace {

// The code unit of the `\uXXXX` escape at `at` (pointing at the backslash),
// or -1 when the six bytes there are not one.
long escape_at(const std::string& s, std::size_t at) {
  if (at > s.size() || s.size() - at < 6 || s[at] != '\\' || s[at + 1] != 'u')
    return -1;
  return hex4_at(s, at + 2);
}

bool is_high(long u) { return u >= 0xD800 && u <= 0xDBFF; }
bool is_low(long u) { return u >= 0xDC00 && u <= 0xDFFF; }

}  // namespace

std::size_t repair_unstorable_escapes(std::string& s) {
  std::size_t repaired = 0;
  bool in_string = false;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (!in_string) {
      in_string = c == '"';
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      ++i;
      continue;
    }
    if (c != '\\') {
      ++i;
      continue;
    }
    // An escape: whatever follows the backslash belongs to it, so an
    // escaped backslash never starts another escape.
    long u = escape_at(s, i);
    if (u < 0) {
      i += 2;  // \" \\ \n ... (or not JSON: left for the checker to refuse)
      continue;
    }
    if (is_high(u) && is_low(escape_at(s, i + 6))) {
      i += 12;  // a pair: one code point, storable
      continue;
    }
    if (u == 0 || is_high(u) || is_low(u)) {
      s.replace(i + 2, 4, "fffd");
      ++repaired;
    }
    i += 6;
  }
  return repaired;
}

}  // namespace matchsync::upstream
