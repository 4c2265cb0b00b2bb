// Fuzzes check_json_object against nlohmann's parser as the oracle: both
// must agree on what is JSON and what is an object; the checker may only
// add its jsonb limits (a \u0000 escape, nesting past max_json_depth) and
// refuse a byte order mark, which nlohmann skips, and a NUL byte, where
// nlohmann stops reading (JSON has no raw NUL; libpq would cut the text
// there). Numbers past a double's range are JSON that nlohmann refuses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/require.hpp"
#include "upstream/json_check.hpp"

using matchsync::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using matchsync::upstream::json_verdict;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto verdict = matchsync::upstream::check_json_object(text);
  if (text.find('\0') != std::string::npos) {
    require(verdict == json_verdict::malformed);
    return 0;
  }
  bool bom = text.rfind("\xef\xbb\xbf", 0) == 0;
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(text);
  } catch (const nlohmann::json::out_of_range&) {
    // A number past a double's range (406, "number overflow"): nlohmann
    // stops there, where JSON allows it and jsonb's numeric may hold it
    // (json_check_test pins those limits): nothing to compare.
    return 0;
  } catch (const nlohmann::json::parse_error&) {
    parsed = nlohmann::json(nlohmann::json::value_t::discarded);
  }
  switch (verdict) {
    case json_verdict::object:
      require(parsed.is_object());
      break;
    case json_verdict::not_object:
      require(!parsed.is_discarded() && !parsed.is_object());
      break;
    case json_verdict::unstorable:
      require(!parsed.is_discarded());
      break;
    case json_verdict::malformed:
      require(parsed.is_discarded() || bom);
      break;
  }
  return 0;
}
