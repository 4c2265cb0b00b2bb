// Who a request acts for. With auth=token a bearer token is hashed (SHA-256,
// as stored) and looked up once, then served from a small cache for a TTL,
// so a request costs no database round-trip; with auth=none every request
// acts as the default account's user.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace matchsync::http {

/// The user a request acts for.
struct principal {
  std::int64_t user_id = 0;
  std::int64_t account_id = 0;
};

/// Token hash -> principal, least recently used first out, entries expire
/// after `ttl`. Thread-safe. The clock is passed in (tests drive it).
class token_cache {
public:
  using clock = std::chrono::steady_clock;

  token_cache(std::size_t capacity, std::chrono::milliseconds ttl);

  std::optional<principal> get(const std::string& token_hash, clock::time_point now);
  void put(const std::string& token_hash, const principal& who, clock::time_point now);
  std::size_t size() const;

private:
  struct entry {
    std::string hash;
    principal who;
    clock::time_point expires;
  };
  std::size_t capacity_;
  std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  std::list<entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<entry>::iterator> index_;
};

/// Whether `token` has the shape of the tokens this service issues (64
/// lowercase hex digits): anything else is refused without a lookup.
bool could_be_token(const std::string& token);

/// Outcome of authenticating one request.
struct auth_result {
  std::optional<principal> who;
  std::string detail;  ///< the 401 detail when `who` is empty
};

class authenticator {
public:
  /// Finds the user by token hash (a database read); throws domain_error
  /// when the database is away.
  using lookup_fn = std::function<std::optional<principal>(const std::string& hash)>;
  /// The default account's user (auth=none), created if missing.
  using default_fn = std::function<principal()>;

  /// `mode` is "token" or "none".
  /// A known token is trusted `ttl` without asking again: short, since a
  /// revoked token must stop working within a second on every node. An
  /// unknown one is remembered `unknown_ttl`: tokens are random, so one
  /// that is unknown now is not issued a moment later.
  authenticator(std::string mode, lookup_fn lookup, default_fn default_user,
                std::chrono::milliseconds ttl = std::chrono::milliseconds(500),
                std::size_t capacity = 4096,
                std::chrono::milliseconds unknown_ttl = std::chrono::seconds(30));

  /// Authenticates from the Authorization header's value ("" when absent).
  auth_result authenticate(const std::string& authorization);

  bool required() const { return mode_ != "none"; }

private:
  std::string mode_;
  lookup_fn lookup_;
  default_fn default_user_;
  token_cache cache_;
  token_cache unknown_;
  std::mutex default_mutex_;
  std::optional<principal> default_;
};

}  // namespace matchsync::http
