// A loopback TCP relay between a worker and its coordinator (or a node and
// PostgreSQL), so that a test can cut one node's network (every connection
// reset, the port closed) while the process itself lives on, or block it for
// a while and let it through again.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace matchsync::test::fault {

class tcp_proxy {
public:
  /// Listens on 127.0.0.1, an ephemeral port, relaying to 127.0.0.1:target.
  /// With `record`, keeps every byte relayed (both ways) for relayed().
  explicit tcp_proxy(int target_port, bool record = false);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  int port() const { return port_; }
  /// Resets every relayed connection and closes the listening port: the
  /// node behind it is cut off, and cannot connect again.
  void cut();
  /// Resets every relayed connection and resets each new one until
  /// restore(): an outage the node recovers from. When it returns, no
  /// connection is relayed any more.
  void block();
  /// Relays new connections again after block().
  void restore();
  /// While frozen, nothing is relayed either way and nothing is closed: the
  /// peers' packets vanish, as behind a firewall that drops them.
  void freeze(bool on) { frozen_ = on; }
  /// Connections relayed so far.
  int connections() const { return accepted_; }
  /// Every byte relayed so far, both directions interleaved (empty unless
  /// recording): what an eavesdropper on the path saw.
  std::string relayed() const;

private:
  void accept_loop();
  void pump(int a, int b);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> blocked_{false};
  std::atomic<int> pumping_{0};  // relayed connections still open
  std::atomic<bool> frozen_{false};
  std::atomic<int> accepted_{0};
  bool record_;
  mutable std::mutex seen_mutex_;
  std::string seen_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace matchsync::test::fault
