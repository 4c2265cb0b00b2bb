#include "http/auth.hpp"

#include "core/token.hpp"
#include "http/params.hpp"

namespace matchsync::http {

token_cache::token_cache(std::size_t capacity, std::chrono::milliseconds ttl)
  : capacity_(capacity == 0 ? 1 : capacity), ttl_(ttl) {}

std::optional<principal> token_cache::get(const std::string& token_hash,
                                          clock::time_point now) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = index_.find(token_hash);
  if (it == index_.end())
    return std::nullopt;
  auto e = it->second;
  // The map compares hashes of secrets, which tells nothing about a token;
  // the final check is constant-time all the same.
  if (now >= e->expires || !constant_time_equal(e->hash, token_hash)) {
    lru_.erase(e);
    index_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, e);
  return e->who;
}

void token_cache::put(const std::string& token_hash, const principal& who,
                      clock::time_point now) {
  std::lock_guard<std::mutex> guard(mutex_);
  auto it = index_.find(token_hash);
  if (it != index_.end()) {
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.push_front(entry{token_hash, who, now + ttl_});
  index_[token_hash] = lru_.begin();
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().hash);
    lru_.pop_back();
  }
}

std::size_t token_cache::size() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return lru_.size();
}

bool could_be_token(const std::string& token) {
  if (token.size() != 64)
    return false;
  for (char c : token)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

authenticator::authenticator(std::string mode, lookup_fn lookup, default_fn default_user,
                             std::chrono::milliseconds ttl, std::size_t capacity,
                             std::chrono::milliseconds unknown_ttl)
  : mode_(std::move(mode)), lookup_(std::move(lookup)),
    default_user_(std::move(default_user)), cache_(capacity, ttl),
    unknown_(capacity, unknown_ttl) {}

auth_result authenticator::authenticate(const std::string& authorization) {
  if (!required()) {
    std::lock_guard<std::mutex> guard(default_mutex_);
    if (!default_)
      default_ = default_user_();  // throws when the database is away: retried next time
    return {default_, {}};
  }
  if (authorization.empty())
    return {std::nullopt, "Not authenticated"};
  auto token = bearer_token(authorization);
  if (!token)
    return {std::nullopt, "Not authenticated"};
  // Junk costs no query (and no hash).
  if (!could_be_token(*token))
    return {std::nullopt, "Invalid token"};
  auto hash = hash_token(*token);
  auto now = token_cache::clock::now();
  if (auto hit = cache_.get(hash, now))
    return {hit, {}};
  if (unknown_.get(hash, now))
    return {std::nullopt, "Invalid token"};
  auto found = lookup_(hash);
  if (!found) {
    unknown_.put(hash, principal{}, now);
    return {std::nullopt, "Invalid token"};
  }
  cache_.put(hash, *found, now);
  return {found, {}};
}

}  // namespace matchsync::http
