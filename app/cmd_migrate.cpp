// `matchsync migrate [--status]`.
#include <iostream>

#include "app/commands.hpp"
#include "core/errors.hpp"
#include "persistence/database.hpp"
#include "persistence/migrator.hpp"

namespace matchsync::app {

int run_migrate(const config& cfg, const migrate_options& opts) {
  try {
    auto conn = db::connect(cfg.database_url);
    db::migrator m;
    if (opts.status_only) {
      auto st = m.status(*conn);
      for (auto& name : st.applied)
        std::cout << "applied  " << name << "\n";
      for (auto& name : st.pending)
        std::cout << "pending  " << name << "\n";
      return 0;
    }
    auto done = m.apply(*conn);
    for (auto& name : done)
      std::cout << "applied " << name << "\n";
    if (done.empty())
      std::cout << "schema is current\n";
    return 0;
  } catch (const domain_error& e) {
    std::cerr << "matchsync: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace matchsync::app
