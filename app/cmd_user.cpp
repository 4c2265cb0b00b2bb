// `matchsync user add|token|remove`: a token is printed once, alone on the
// last line, and only its hash is stored.
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

int run_user_token(const config& cfg, std::int64_t account_id) {
  try {
    auto conn = db::connect(cfg.database_url);
    db::migrator().require_current(*conn);
    auto token = generate_token();
    auto u = db::user_store(*conn).replace_token(account_id, hash_token(token));
    // Nodes trust a known token for 500 ms (http/auth.hpp): the old one
    // stops working everywhere within a second.
    std::cout << "new API token for user " << u.id << " (account " << u.account_id
              << "); the old one is revoked. Shown once:\n"
              << token << std::endl;
    return 0;
  } catch (const domain_error& e) {
    std::cerr << "matchsync: " << e.what() << "\n";
    return 1;
  }
}

int run_user_remove(const config& cfg, std::int64_t account_id, bool confirmed) {
  if (!confirmed) {
    std::cerr << "matchsync: user remove deletes the user of account " << account_id
              << ", their tokens, jobs and matches; run it again with --yes to confirm\n";
    return 2;
  }
  try {
    auto conn = db::connect(cfg.database_url);
    db::migrator().require_current(*conn);
    auto gone = db::user_store(*conn).remove(account_id);
    std::cout << "removed the user of account " << account_id << " with " << gone.jobs
              << " jobs and " << gone.matches << " matches" << std::endl;
    return 0;
  } catch (const domain_error& e) {
    std::cerr << "matchsync: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace matchsync::app
