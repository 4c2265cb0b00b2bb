// HTTP compares header names, media types and host names without regard to
// ASCII case (RFC 9110); they are lowered once here before comparing.
#pragma once

#include <cctype>
#include <string>

namespace matchsync::http {

/// `s` with A-Z lowered; other bytes, UTF-8 included, left as they are.
inline std::string ascii_lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace matchsync::http
