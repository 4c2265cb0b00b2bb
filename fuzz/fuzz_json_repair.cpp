// Fuzzes repair_unstorable_escapes on any bytes: the text keeps its
// length, every changed byte lies in a `\u` escape now reading `\ufffd`, a
// second pass changes nothing, and text the checker already stores as an
// object is never touched.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/require.hpp"
#include "upstream/json_check.hpp"
#include "upstream/json_repair.hpp"

using matchsync::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace matchsync::upstream;
  const std::string original(reinterpret_cast<const char*>(data), size);
  std::string text = original;
  auto count = repair_unstorable_escapes(text);
  require(text.size() == original.size());
  std::size_t changed_escapes = 0;
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (text[k] == original[k])
      continue;
    // Inside an escape mended here: `\u` in both, `fffd` after it now.
    bool inside = false;
    for (std::size_t j = k >= 5 ? k - 5 : 0; j <= k && !inside; ++j)
      inside = text.compare(j, 6, "\\ufffd") == 0 && original.compare(j, 2, "\\u") == 0;
    require(inside);
  }
  for (std::size_t j = 0; j + 6 <= text.size(); ++j)
    if (text.compare(j, 6, "\\ufffd") == 0 && original.compare(j, 6, "\\ufffd") != 0)
      ++changed_escapes;
  require(changed_escapes == count);
  require((count == 0) == (text == original));
  std::string again = text;
  require(repair_unstorable_escapes(again) == 0);
  require(again == text);
  if (check_json_object(original) == json_verdict::object)
    require(count == 0);
  return 0;
}
