// Checks an upstream match detail without building a tree of it: the text
// goes to PostgreSQL as is, so it must be JSON that jsonb accepts. Pure and
// allocation-light; a 20 KB detail is checked in a few microseconds.
#pragma once

#include <cstddef>
#include <string_view>

namespace matchsync::upstream {

enum class json_verdict {
  object,      ///< one well-formed JSON object (RFC 8259), storable as jsonb
  malformed,   ///< not JSON: bad syntax, bad UTF-8, truncated, trailing bytes
  not_object,  ///< well-formed, but its top-level value is not an object
  unstorable,  ///< JSON that jsonb refuses: a \u0000 escape, nesting
               ///< deeper than `max_json_depth`, or a number out of
               ///< numeric's range (1e131072, 1e-16384)
};

/// Deeper nesting is refused (jsonb's parser recurses; OpenDota nests ~5).
constexpr std::size_t max_json_depth = 256;

json_verdict check_json_object(std::string_view text);

}  // namespace matchsync::upstream
