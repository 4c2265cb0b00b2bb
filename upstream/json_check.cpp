#include "upstream/json_check.hpp"

#include <algorithm>
#include <vector>

#include "upstream/json_hex.hpp"

namespace matchsync::upstream {

namespace {

struct number_parts {
  bool int_nonzero = false;
  long long int_digits = 0;
  long long frac_digits = 0;
  long long first_frac_nonzero = -1;  ///< index in the fraction, -1: none
  long long exponent = 0;
};

long long floor_div4(long long v) { return v >= 0 ? v / 4 : -((-v + 3) / 4); }

// Whether PostgreSQL's numeric, which jsonb keeps numbers in, can hold this
// number (numeric.c, set_var_from_str and make_result): an exponent under
// INT_MAX / 2, at most 16383 digits after the point once the exponent is
// applied, and a first digit at most 131071 places before it (base-10000
// weight 32767). Beyond them the whole batch's INSERT would fail with
// "value overflows numeric format".
bool numeric_holds(const number_parts& n) {
  constexpr long long exponent_limit = 1073741823;  // INT_MAX / 2
  if (n.exponent >= exponent_limit || n.exponent <= -exponent_limit)
    return false;
  if (std::max(0LL, n.frac_digits - n.exponent) > 16383)
    return false;
  long long weight = 0;  // decimal place of the first nonzero digit
  if (n.int_nonzero)
    weight = n.int_digits - 1;
  else if (n.first_frac_nonzero >= 0)
    weight = -(n.first_frac_nonzero + 1);
  else
    return true;  // zero
  return floor_div4(weight + n.exponent) <= 32767;
}

class checker {
public:
  explicit checker(std::string_view s) : s_(s) {}

  json_verdict run() {
    skip_ws();
    if (at_end())
      return json_verdict::malformed;
    bool object = s_[i_] == '{';
    if (!value())
      return json_verdict::malformed;
    skip_ws();
    if (!at_end())
      return json_verdict::malformed;
    // Only well-formed JSON is told apart as unstorable.
    if (unstorable_)
      return json_verdict::unstorable;
    return object ? json_verdict::object : json_verdict::not_object;
  }

private:
  bool at_end() const { return i_ >= s_.size(); }
  unsigned char peek() const { return static_cast<unsigned char>(s_[i_]); }

  void skip_ws() {
    while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }

  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      return false;
    i_ += word.size();
    return true;
  }

  bool digits() {
    auto start = i_;
    while (!at_end() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    return i_ > start;
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  // A number numeric cannot hold is noted as unstorable (numeric_holds).
  bool number() {
    if (s_[i_] == '-')
      ++i_;
    if (at_end())
      return false;
    auto int_start = i_;
    if (s_[i_] == '0')
      ++i_;
    else if (!digits())
      return false;
    number_parts n;
    n.int_digits = static_cast<long long>(i_ - int_start);
    n.int_nonzero = s_[int_start] != '0';  // JSON has no leading zeros
    if (!at_end() && s_[i_] == '.') {
      ++i_;
      auto frac_start = i_;
      if (!digits())
        return false;
      n.frac_digits = static_cast<long long>(i_ - frac_start);
      for (auto k = frac_start; k < i_ && n.first_frac_nonzero < 0; ++k)
        if (s_[k] != '0')
          n.first_frac_nonzero = static_cast<long long>(k - frac_start);
    }
    if (!at_end() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      bool negative = false;
      if (!at_end() && (s_[i_] == '+' || s_[i_] == '-'))
        negative = s_[i_++] == '-';
      auto exp_start = i_;
      if (!digits())
        return false;
      for (auto k = exp_start; k < i_; ++k)  // saturates far past any limit
        n.exponent = std::min<long long>(n.exponent * 10 + (s_[k] - '0'), 1LL << 40);
      if (negative)
        n.exponent = -n.exponent;
    }
    if (!numeric_holds(n))
      unstorable_ = true;
    return true;
  }

  // Four hex digits after "\u"; -1 when they are not.
  long hex4() {
    auto v = hex4_at(s_, i_);
    if (v >= 0)
      i_ += 4;
    return v;
  }

  // One UTF-8 sequence (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
  bool utf8() {
    auto c = peek();
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (s_.size() - i_ <= n)
      return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s_[i_ + k]);
      if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF))
        return false;
    }
    i_ += n + 1;
    return true;
  }

  bool string() {
    ++i_;  // the opening quote
    while (!at_end()) {
      auto c = peek();
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20)
        return false;
      if (c >= 0x80) {
        if (!utf8())
          return false;
        continue;
      }
      ++i_;
      if (c != '\\')
        continue;
      if (at_end())
        return false;
      char e = s_[i_++];
      if (e == 'u') {
        if (!escaped_code_point())
          return false;
      } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                 e != 'r' && e != 't') {
        return false;
      }
    }
    return false;
  }

  // After "\u": a code point, with a surrogate pair as two escapes.
  bool escaped_code_point() {
    auto u = hex4();
    if (u < 0)
      return false;
    if (u == 0)
      unstorable_ = true;  // jsonb cannot hold U+0000
    if (u >= 0xDC00 && u <= 0xDFFF)
      return false;  // a low surrogate first
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (s_.substr(i_, 2) != "\\u")
        return false;
      i_ += 2;
      auto low = hex4();
      return low >= 0xDC00 && low <= 0xDFFF;
    }
    return true;
  }

  // One value and everything nested in it, without recursion: `open_` holds
  // the containers entered and not yet closed.
  bool value() {
    for (;;) {
      skip_ws();
      if (at_end())
        return false;
      char c = s_[i_];
      if (c == '{' || c == '[') {
        if (open_.size() >= max_json_depth)
          unstorable_ = true;  // checked on all the same, without recursion
        open_.push_back(c);
        ++i_;
        skip_ws();
        if (!at_end() && s_[i_] == (c == '{' ? '}' : ']')) {
          ++i_;
          open_.pop_back();
        } else if (c == '{') {
          if (!member_name())
            return false;
          continue;  // the member's value
        } else {
          continue;  // the first element
        }
      } else if (c == '"') {
        if (!string())
          return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!number())
          return false;
      } else if (!literal("true") && !literal("false") && !literal("null")) {
        return false;
      }
      // A value ended: close containers, or go on to the next element.
      for (;;) {
        if (open_.empty())
          return true;
        skip_ws();
        if (at_end())
          return false;
        char next = s_[i_++];
        char container = open_.back();
        if (next == ',') {
          if (container == '{' && !member_name())
            return false;
          break;
        }
        if (next != (container == '{' ? '}' : ']'))
          return false;
        open_.pop_back();
      }
    }
  }

  // `"name"` then `:`.
  bool member_name() {
    skip_ws();
    if (at_end() || s_[i_] != '"' || !string())
      return false;
    skip_ws();
    if (at_end() || s_[i_] != ':')
      return false;
    ++i_;
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  std::vector<char> open_;
  bool unstorable_ = false;
};

}  // namespace

json_verdict check_json_object(std::string_view text) { return checker(text).run(); }

}  // namespace matchsync::upstream
