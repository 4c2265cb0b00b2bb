// The cluster join's challenge–response, free of CAF: nonces, HMAC-SHA256
// proofs of the shared secret and the book of nonces handed out. The secret
// never travels; a proof is bound to one fresh nonce of each side, to the
// node name and to the CAF node that asked, so a recorded exchange proves
// nothing a second time.
//
//   worker                                   gatekeeper
//   (join, node, client_nonce)  ---------->  issues server_nonce (book)
//          <----------  (server_nonce, coordinator_mac)
//   checks coordinator_mac (a fake coordinator cannot make it)
//   (join, server_nonce, worker_mac, info, agent) --->  takes the nonce once,
//                                                      checks worker_mac
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace matchsync::join_proof {

/// 256 random bits, hex.
std::string random_nonce();

/// What the worker proves: HMAC-SHA256(secret, label, server nonce, client
/// nonce, node name), hex. Fields are length-prefixed, so no two different
/// field lists give the same input.
std::string worker_mac(const std::string& secret, const std::string& server_nonce,
                       const std::string& client_nonce, const std::string& node);

/// What the coordinator proves back, under a label of its own (a worker's
/// proof never passes for the coordinator's, nor the other way round).
std::string coordinator_mac(const std::string& secret, const std::string& server_nonce,
                            const std::string& client_nonce, const std::string& node);

/// Compares a received proof with the expected one in constant time.
bool proof_matches(const std::string& expected, const std::string& received);

/// The nonces the gatekeeper handed out and not yet used: each is bound to
/// the node name and the requester (a CAF node id) it was issued for, used
/// at most once and only within its lifetime. Bounded: when full, the
/// oldest goes first, so a flood of challenges costs memory no more.
class nonce_book {
public:
  using clock = std::chrono::steady_clock;

  struct issued {
    std::string node;
    std::string client_nonce;
    std::string requester;
    clock::time_point at;
  };

  explicit nonce_book(std::chrono::milliseconds lifetime = std::chrono::seconds(10),
                      std::size_t capacity = 256);

  /// Records a new nonce for (node, client nonce, requester) at `now`; returns it.
  std::string issue(const std::string& node, const std::string& client_nonce,
                    const std::string& requester, clock::time_point now);

  /// Takes `nonce` out of the book. Returns nullptr and fills `out` when it
  /// was issued to `requester`, for `node`, and is still fresh at `now`;
  /// else the reason it is refused (a nonce that was found is gone all the
  /// same: one try per nonce).
  const char* take(const std::string& nonce, const std::string& node,
                   const std::string& requester, clock::time_point now, issued& out);

  std::size_t size() const { return by_nonce_.size(); }

private:
  std::chrono::milliseconds lifetime_;
  std::size_t capacity_;
  std::map<std::string, issued> by_nonce_;
};

}  // namespace matchsync::join_proof
