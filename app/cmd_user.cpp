// `matchsync user add`: the token is printed once, alone on the last line,
// and only its hash is stored.
#include <iostream>

#include "app/commands.hpp"
#include "core/errors.hpp"
#include "core/token.hpp"
#include "persistence/database.hpp"
#include "persistence/migrator.hpp"
#include "persistence/user_store.hpp"

namespace matchsync::app {

int run_user_add(const config& cfg, const user_add_options& opts) {
  try {
    auto conn = db::connect(cfg.database_url);
    db::migrator().require_current(*conn);
    auto token = generate_token();
    db::user_store users(*conn);
    auto u = users.create(opts.account_id, opts.name, hash_token(token));
    std::cout << "created user " << u.id << " for account " << u.account_id
              << "; its API token (shown once):\n"
              << token << std::endl;
    return 0;
  } catch (const domain_error& e) {
    std::cerr << "matchsync: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace matchsync::app
