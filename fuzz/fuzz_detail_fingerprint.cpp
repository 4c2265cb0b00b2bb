// Fuzzes detail_fingerprint (upstream text, read by hand) on any bytes: it
// never reads out of bounds, is a function of its input, and for a detail
// the checker accepts, a request-time member put in front changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/require.hpp"
#include "sync/detail_fingerprint.hpp"
#include "upstream/json_check.hpp"

using matchsync::fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace matchsync;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto fp = sync::detail_fingerprint(text);
  require(fp == sync::detail_fingerprint(text));
  if (upstream::check_json_object(text) != upstream::json_verdict::object)
    return 0;
  auto open = text.find('{');
  auto next = text.find_first_not_of(" \t\r\n", open + 1);
  if (next == std::string::npos || text[next] == '}')
    return 0;
  auto with = text.substr(0, open + 1) + R"("od_data":{"has_api":[1,"}"]},)" + text.substr(open + 1);
  require(sync::detail_fingerprint(with) == fp);
  return 0;
}
