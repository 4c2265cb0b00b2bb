// Fuzzes what a client sends: the trigger body, query values and path ids
// (the input split on '&' into name=value pairs), and the Authorization
// header. Besides crashes, a result that breaks its documented contract
// aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

#include "http/params.hpp"

namespace {

using matchsync::http::bearer_token;
using matchsync::http::parse_id;
using matchsync::http::parse_int_param;
using matchsync::http::parse_trigger_body;

void require(bool ok) {
  if (!ok)
    std::abort();
}

bool all_digits(const std::string& s) {
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return !s.empty();
}

// The value a digit string denotes, when it fits an int64.
bool decimal_fits(const std::string& s, std::int64_t& out) {
  std::int64_t v = 0;
  for (char c : s) {
    int d = c - '0';
    if (v > (std::numeric_limits<std::int64_t>::max() - d) / 10)
      return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

template <class T>
void check_shape(const matchsync::http::parsed<T>& p) {
  // Exactly one of value and error.
  require(p.ok() == p.error.empty());
}

// The query-parameter ranges the routes use (limit, offset) and extremes.
struct range {
  std::int64_t min, max, fallback;
};
constexpr range ranges[] = {
  {1, 500, 50},
  {1, 100, 10},
  {0, std::numeric_limits<int>::max(), 0},
  {0, std::numeric_limits<std::int64_t>::max(), 0},
};

void check_value(const std::string& name, const std::string& value) {
  std::int64_t expected = 0;
  bool digits = all_digits(value) && value.size() <= 40;
  bool fits = digits && decimal_fits(value, expected);

  auto id = parse_id(name, value);
  check_shape(id);
  require(id.ok() == fits);
  if (id.ok())
    require(*id.value == expected);

  for (const auto& r : ranges) {
    auto absent = parse_int_param(name, false, value, r.min, r.max, r.fallback);
    require(absent.ok() && *absent.value == r.fallback);
    auto p = parse_int_param(name, true, value, r.min, r.max, r.fallback);
    check_shape(p);
    require(p.ok() == (fits && expected >= r.min && expected <= r.max));
    if (p.ok())
      require(*p.value == expected);
  }
}

void check_bearer(const std::string& header) {
  auto token = bearer_token(header);
  if (!token)
    return;
  require(!token->empty());
  for (unsigned char c : *token)
    require(c > ' ' && c < 0x7f);
  require(header.find(*token) != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);

  check_shape(parse_trigger_body(input));
  check_bearer(input);

  std::size_t start = 0;
  while (start <= input.size()) {
    auto amp = input.find('&', start);
    if (amp == std::string::npos)
      amp = input.size();
    auto pair = input.substr(start, amp - start);
    auto eq = pair.find('=');
    if (eq == std::string::npos)
      check_value("value", pair);
    else
      check_value(pair.substr(0, eq), pair.substr(eq + 1));
    start = amp + 1;
  }
  return 0;
}
