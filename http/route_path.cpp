#include "http/route_path.hpp"

namespace matchsync::http {

std::string routed_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  std::size_t run = 0;  // bytes of the current segment so far
  for (char c : path) {
    if (c == '/') {
      run = 0;
      out += c;
    } else if (run++ < max_routed_segment) {
      out += c;
    }
  }
  return out;
}

bool routable_path(std::string_view path) {
  std::size_t run = 0;
  for (char c : path) {
    run = c == '/' ? 0 : run + 1;
    if (run > max_routed_segment)
      return false;
  }
  return true;
}

}  // namespace matchsync::http
