#include "app/heap_settings.hpp"

#include <malloc.h>

namespace matchsync::app {

void bound_heap_retention() {
#if defined(__GLIBC__)
  // Setting it at all turns the dynamic adjustment off (mallopt(3)).
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

}  // namespace matchsync::app
