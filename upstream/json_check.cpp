#include "upstream/json_check.hpp"

#include <vector>

namespace matchsync::upstream {

namespace {

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
  bool number() {
    if (s_[i_] == '-')
      ++i_;
    if (at_end())
      return false;
    if (s_[i_] == '0')
      ++i_;
    else if (!digits())
      return false;
    if (!at_end() && s_[i_] == '.') {
      ++i_;
      if (!digits())
        return false;
    }
    if (!at_end() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (!at_end() && (s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      if (!digits())
        return false;
    }
    return true;
  }

  // Four hex digits after "\u"; -1 when they are not.
  long hex4() {
    if (s_.size() - i_ < 4)
      return -1;
    long v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_ + k];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0)
        return -1;
      v = v * 16 + d;
    }
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
