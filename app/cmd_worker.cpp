// `matchsync worker`: a node that joins the coordinator over CAF.
#include <iostream>

#include "app/commands.hpp"

namespace matchsync::app {

int run_worker(const config&) {
  std::cerr << "matchsync: 'worker' is not built yet (scale-out is a later issue)\n";
  return 3;
}

}  // namespace matchsync::app
