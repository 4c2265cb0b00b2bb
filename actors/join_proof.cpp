#include "actors/join_proof.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <stdexcept>

#include "core/token.hpp"

namespace matchsync::join_proof {

namespace {

void append_field(std::string& out, const std::string& field) {
  auto n = static_cast<std::uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xff);
  out += field;
}

std::string mac(const char* label, const std::string& secret, const std::string& server_nonce,
                const std::string& client_nonce, const std::string& node) {
  std::string input;
  append_field(input, label);
  append_field(input, server_nonce);
  append_field(input, client_nonce);
  append_field(input, node);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest, &len))
    throw std::runtime_error("HMAC-SHA256 failed");
  return to_hex(digest, len);
}

}  // namespace

std::string random_nonce() { return generate_token(); }

std::string worker_mac(const std::string& secret, const std::string& server_nonce,
                       const std::string& client_nonce, const std::string& node) {
  return mac("matchsync join v1: worker", secret, server_nonce, client_nonce, node);
}

std::string coordinator_mac(const std::string& secret, const std::string& server_nonce,
                            const std::string& client_nonce, const std::string& node) {
  return mac("matchsync join v1: coordinator", secret, server_nonce, client_nonce, node);
}

bool proof_matches(const std::string& expected, const std::string& received) {
  return constant_time_equal(expected, received);
}

nonce_book::nonce_book(std::chrono::milliseconds lifetime, std::size_t capacity)
  : lifetime_(lifetime), capacity_(capacity == 0 ? 1 : capacity) {}

std::string nonce_book::issue(const std::string& node, const std::string& client_nonce,
                              const std::string& requester, clock::time_point now) {
  // Drop what has expired, then the oldest while full.
  for (auto it = by_nonce_.begin(); it != by_nonce_.end();)
    it = now - it->second.at > lifetime_ ? by_nonce_.erase(it) : std::next(it);
  while (by_nonce_.size() >= capacity_) {
    auto oldest = by_nonce_.begin();
    for (auto it = by_nonce_.begin(); it != by_nonce_.end(); ++it)
      if (it->second.at < oldest->second.at)
        oldest = it;
    by_nonce_.erase(oldest);
  }
  auto nonce = random_nonce();
  by_nonce_[nonce] = issued{node, client_nonce, requester, now};
  return nonce;
}

const char* nonce_book::take(const std::string& nonce, const std::string& node,
                             const std::string& requester, clock::time_point now,
                             issued& out) {
  auto it = by_nonce_.find(nonce);
  if (it == by_nonce_.end())
    return "unknown or used nonce";
  auto entry = std::move(it->second);
  by_nonce_.erase(it);
  if (now - entry.at > lifetime_)
    return "expired nonce";
  if (entry.requester != requester)
    return "nonce issued to another peer";
  if (entry.node != node)
    return "nonce issued for another node name";
  out = std::move(entry);
  return nullptr;
}

}  // namespace matchsync::join_proof
