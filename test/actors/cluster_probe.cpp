// A CAF peer for the cluster TLS tests (built only for tests): connects to a
// cluster port with CAF's own calls, plain, over TLS without a certificate
// ("anon", CAF's fallback to anonymous ciphers), or with a CA, certificate
// and key, and says whether it got a handle.
//   cluster_probe HOST PORT plain|anon|tls [CA CERT KEY] [--send-shutdown]
// Prints "connected" (exit 0) or "refused: ERROR" (exit 3). With
// --send-shutdown a probe that got through sends the coordinator `shutdown`,
// so a test that expects a refusal sees any breach as a dead `serve`.
#include <iostream>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/messages.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool send_shutdown = !args.empty() && args.back() == "--send-shutdown";
  if (send_shutdown)
    args.pop_back();
  if (args.size() < 3 || (args[2] == "tls" && args.size() != 6)) {
    std::cerr << "usage: cluster_probe HOST PORT plain|anon|tls [CA CERT KEY] "
                 "[--send-shutdown]\n";
    return 2;
  }
  const auto& mode = args[2];
  caf::actor_system_config cfg;
  matchsync::register_messages(cfg);
  cfg.load<caf::io::middleman>();
  if (mode != "plain")
    cfg.load<caf::openssl::manager>();
  if (mode == "tls") {
    cfg.openssl_cafile = args[3];
    cfg.openssl_certificate = args[4];
    cfg.openssl_key = args[5];
  }
  caf::actor_system system(cfg);
  auto port = static_cast<std::uint16_t>(std::stoi(args[1]));
  auto peer = mode == "plain" ? system.middleman().remote_actor(args[0], port)
                              : caf::openssl::remote_actor(system, args[0], port);
  if (!peer) {
    std::cout << "refused: " << system.render(peer.error()) << std::endl;
    return 3;
  }
  std::cout << "connected" << std::endl;
  if (send_shutdown) {
    caf::scoped_actor self{system};
    self->send(*peer, matchsync::shutdown_atom::value);
  }
  return 0;
}
