// Every connection string the process uses gets bounds on how long the
// database may keep it waiting: libpq's defaults wait for ever for an
// unreachable host, never notice a peer whose packets are dropped, and let a
// statement run without end.
#pragma once

#include <string>

namespace matchsync::db {

/// Bounds applied to every connection unless the string sets them itself.
struct connection_bounds {
  int connect_timeout_s = 3;
  /// TCP keepalives: the first probe after this much silence...
  int keepalives_idle_s = 5;
  int keepalives_interval_s = 2;
  int keepalives_count = 3;
  /// ...and unacknowledged data gives up after this (libpq tcp_user_timeout).
  int tcp_user_timeout_ms = 10000;
  /// statement_timeout for the session (0: leave the server's).
  int statement_timeout_ms = 60000;
  /// idle_in_transaction_session_timeout (0: leave the server's). A process
  /// frozen inside a transaction (SIGSTOP, a stalled VM) would otherwise
  /// hold its row locks for ever, and the coordinator's takeover of its jobs
  /// would wait on them; our transactions never idle between statements.
  int idle_in_transaction_ms = 5000;
};

/// `url` (key=value pairs or a postgresql:// / postgres:// URL) with every
/// bound of `b` that it does not set already. An `options` of the string's
/// own is kept as it is (libpq takes one value only): the two session
/// timeouts are then the user's to set.
std::string bounded_connection_string(const std::string& url,
                                      const connection_bounds& b = {});

}  // namespace matchsync::db
