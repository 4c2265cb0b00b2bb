// One connection to the upstream, as http_client uses it: an
// httplib::Client plus the handle a cancel shuts down from another thread.
// A fetch runs on one lane at a time; match_details runs several side by
// side.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>

#include <httplib.h>

#include "upstream/http_client.hpp"

namespace matchsync::upstream {

class cancel_token;

/// One attempt's raw outcome, before classification.
struct raw_answer {
  bool answered = false;
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string remaining_minute;  ///< X-Rate-Limit-Remaining-Minute, "" if absent
  std::string remaining_day;     ///< X-Rate-Limit-Remaining-Day, "" if absent
  std::string transport_error;
};

class http_lane {
public:
  http_lane(const std::string& origin, const http_client_options& options);
  http_lane(const http_lane&) = delete;
  http_lane& operator=(const http_lane&) = delete;
  ~http_lane();

  /// GETs `target`; a cancel of `token` meanwhile shuts the socket, so the
  /// call returns at once (unanswered).
  raw_answer send(const std::string& target, cancel_token& token);

  /// Closes the kept-alive connection, if any. Not while a request of this
  /// lane is in flight.
  void close_idle();

  /// The turn of one fetch on this lane. A flag under a plain mutex rather
  /// than std::timed_mutex::try_lock_for: libstdc++ implements that with
  /// pthread_mutex_clocklock, which GCC 12's ThreadSanitizer does not
  /// intercept, so TSan saw every unlock as one of an unlocked mutex.
  class turn {
  public:
    explicit turn(http_lane& lane) : lane_(lane) {}
    ~turn();
    turn(const turn&) = delete;
    turn& operator=(const turn&) = delete;

    /// Waits for the turn; false when `token` is cancelled first (checked
    /// every 20 ms, the token's own wait would need a second lock).
    bool take(cancel_token& token);
    /// Takes the turn only if it is free now.
    bool try_take();

  private:
    http_lane& lane_;
    bool taken_ = false;
  };

private:
  void adopt_socket(socket_t sock);
  void abort_in_flight();
  void close_socket();

  httplib::Client http_;
  std::mutex socket_mutex_;
  int socket_dup_ = -1;
  bool aborted_ = false;
  std::mutex call_mutex_;
  std::condition_variable call_free_;
  bool call_busy_ = false;
};

}  // namespace matchsync::upstream
