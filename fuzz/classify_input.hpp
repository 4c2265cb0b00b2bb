// The input layout shared by fuzz_upstream_list and fuzz_upstream_detail:
//   line 1: the HTTP status (decimal, at most 9 digits, '-' allowed)
//   line 2: the Retry-After header value (empty = absent)
//   rest:   the body
// Text rather than binary, so the seed corpus is readable and editable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/require.hpp"
#include "upstream/classify.hpp"

namespace matchsync::fuzz {

struct upstream_answer {
  int status = 0;
  std::string retry_after;
  std::string body;
};

inline upstream_answer split_answer(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  upstream_answer out;
  auto nl1 = input.find('\n');
  auto status_line = input.substr(0, nl1);
  bool negative = !status_line.empty() && status_line[0] == '-';
  int digits = 0;
  for (char c : status_line)
    if (c >= '0' && c <= '9' && digits < 9) {
      out.status = out.status * 10 + (c - '0');
      ++digits;
    }
  if (negative)
    out.status = -out.status;
  if (nl1 == std::string::npos)
    return out;
  auto nl2 = input.find('\n', nl1 + 1);
  out.retry_after = input.substr(nl1 + 1, nl2 == std::string::npos
                                            ? std::string::npos
                                            : nl2 - nl1 - 1);
  if (nl2 != std::string::npos)
    out.body = input.substr(nl2 + 1);
  return out;
}


// Well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
inline bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size())
      return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (d < l || d > h)
        return false;
    }
    i += n + 1;
  }
  return true;
}

// Classifies one answer and checks the verdict against classify.hpp's
// contract: `data` only for ok (and then of the expected shape),
// `retry_after` only for rate_limited, a message for every other kind that
// is one line, printable, and well-formed UTF-8 when the body is.
inline void check_answer(const std::uint8_t* data, std::size_t size,
                         upstream::expected_shape shape) {
  using upstream::answer_kind;
  auto in = split_answer(data, size);
  auto a = upstream::classify_response(in.status, in.body, in.retry_after, shape);
  require(upstream::to_string(a.kind) != std::string("unknown"));
  if (a.kind == answer_kind::ok) {
    require(in.status == 200);
    require(a.message.empty());
    if (shape == upstream::expected_shape::match_detail) {
      // The detail travels as text, checked but not parsed: a real parser
      // must see one object in it.
      require(a.data.is_null());
      require(nlohmann::json::parse(a.text, nullptr, false).is_object());
      // As received, but for the escapes mended to U+FFFD (json_repair.hpp).
      require(a.text.size() == in.body.size());
      if (a.repaired_escapes == 0)
        require(a.text == in.body);
    } else {
      require(a.data.is_array());
      for (const auto& item : a.data)
        require(item.is_object() && item.at("match_id").is_number_integer());
    }
  } else {
    require(a.data.is_null());
    require(a.text.empty());
    require(!a.message.empty());
    for (unsigned char c : a.message)
      require(c >= 0x20 && c != 0x7f);
    // The message is stored as the job's error (a PostgreSQL UTF8 text
    // column) and shown in the dashboard: from a well-formed body it must
    // stay well-formed.
    // MATCHSYNC_FUZZ_ALLOW_BAD_UTF8=1 turns this check off, to fuzz on
    // while a known violation is open (fuzz/regressions/README.md).
    static const bool check_utf8 = std::getenv("MATCHSYNC_FUZZ_ALLOW_BAD_UTF8") == nullptr;
    if (check_utf8 && valid_utf8(in.body))
      require(valid_utf8(a.message));
  }
  if (a.kind != answer_kind::rate_limited)
    require(!a.retry_after.has_value());
  if (a.retry_after)
    require(a.retry_after->count() >= 0 && a.retry_after->count() <= 24 * 60 * 60);
}

}  // namespace matchsync::fuzz
