// Fuzzes the Retry-After header value parser: the whole input is the value.
// Besides crashes, a result outside backoff.hpp's contract aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "upstream/backoff.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string value(reinterpret_cast<const char*>(data), size);
  auto parsed = matchsync::upstream::parse_retry_after(value);

  // Accepted exactly when the value is digits surrounded by blanks/tabs.
  auto b = value.find_first_not_of(" \t");
  auto e = value.find_last_not_of(" \t");
  bool digits = b != std::string::npos;
  if (digits)
    for (auto i = b; i <= e; ++i)
      if (value[i] < '0' || value[i] > '9')
        digits = false;
  if (parsed.has_value() != digits)
    std::abort();
  if (parsed && (parsed->count() < 0 || parsed->count() > 24 * 60 * 60))
    std::abort();
  return 0;
}
