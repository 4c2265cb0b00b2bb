#include "core/host_name.hpp"

#include <unistd.h>

namespace matchsync {

std::string host_name() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0)
    return "localhost";
  return host;
}

}  // namespace matchsync
