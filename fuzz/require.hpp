// The fuzz harnesses' one assertion: a broken property aborts, which
// libFuzzer reports as a crash with its input.
#pragma once

#include <cstdlib>

namespace matchsync::fuzz {

inline void require(bool ok) {
  if (!ok)
    std::abort();
}

}  // namespace matchsync::fuzz
