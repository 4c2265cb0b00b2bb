#include "upstream/http_client.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stdexcept>

#include <httplib.h>

#include "upstream/cancel_token.hpp"
#include "upstream/classify.hpp"
#include "upstream/rate_budget.hpp"
#include "upstream/url.hpp"

namespace matchsync::upstream {

namespace {

using steady = std::chrono::steady_clock;

std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() -
                                                               start);
}

// httplib's client writes with plain send(): a peer closing mid-request
// would raise SIGPIPE and kill the whole service (a worker node serves no
// HTTP, so nothing else ignores it). An error return is what we want.
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 &&
        current.sa_handler == SIG_DFL)
      ::signal(SIGPIPE, SIG_IGN);
  });
}

std::string percent_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

upstream_url checked_url(const std::string& text) {
  std::string why;
  auto url = parse_upstream_url(text, &why);
  if (!url)
    throw std::invalid_argument("MATCHSYNC_UPSTREAM_URL '" + text +
                                "' is invalid: " + why);
  return *url;
}

// One attempt's raw outcome, before classification.
struct raw_answer {
  bool answered = false;
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string transport_error;
};

}  // namespace

struct http_client::impl {
  impl(http_client& o, http_client_options opts, rate_budget& b)
    : owner(o),
      options(std::move(opts)),
      url(checked_url(options.base_url)),
      budget(b),
      http(url.origin()),
      jitter_source(options.seed != 0 ? options.seed : std::random_device{}()) {
    ignore_sigpipe_once();
    http.set_connection_timeout(options.timeout);
    http.set_read_timeout(options.timeout);
    http.set_write_timeout(options.timeout);
    http.set_keep_alive(false);
    http.set_default_headers(
      {{"User-Agent", "matchsync"}, {"Accept", "application/json"}});
    // Called on every new socket, before it connects: keep our own handle on
    // it so that a cancel can shut it down from another thread.
    http.set_socket_options([this](socket_t sock) { adopt_socket(sock); });
  }

  ~impl() { close_socket(); }

  void adopt_socket(socket_t sock) {
    std::lock_guard<std::mutex> lock(socket_mutex);
    if (socket_dup >= 0)
      ::close(socket_dup);
    // A duplicate rather than the number itself: httplib closes its
    // descriptor when the request ends, and the number could then be reused
    // by an unrelated socket that a late cancel would shut down.
    socket_dup = ::dup(sock);
    if (aborted && socket_dup >= 0)
      ::shutdown(socket_dup, SHUT_RDWR);
  }

  // Runs in the cancelling thread: never blocks on the network.
  void abort_in_flight() {
    std::lock_guard<std::mutex> lock(socket_mutex);
    aborted = true;
    if (socket_dup >= 0)
      ::shutdown(socket_dup, SHUT_RDWR);
  }

  void close_socket() {
    std::lock_guard<std::mutex> lock(socket_mutex);
    if (socket_dup >= 0)
      ::close(socket_dup);
    socket_dup = -1;
  }

  raw_answer send(const std::string& target, cancel_token& token) {
    {
      std::lock_guard<std::mutex> lock(socket_mutex);
      aborted = false;
    }
    raw_answer out;
    auto hook = token.on_cancel([this] { abort_in_flight(); });
    auto res = http.Get(target);
    hook.reset();
    close_socket();
    if (res) {
      out.answered = true;
      out.status = res->status;
      out.body = std::move(res->body);
      out.retry_after = res->get_header_value("Retry-After");
    } else {
      out.transport_error = httplib::to_string(res.error());
    }
    return out;
  }

  // `path` goes into error messages; the query (which may carry the api
  // key) never does.
  fetch_result fetch(const std::string& path, const std::string& query,
                     expected_shape shape, cancel_token& token) {
    fetch_result result;
    // One call at a time per object (see the header); a second caller still
    // notices its cancel while it waits for the first.
    call_turn turn(*this);
    if (!turn.take(token)) {
      result.kind = result_kind::cancelled;
      return result;
    }
    auto target = url.base_path + path;
    std::string full_query = query;
    if (!options.api_key.empty())
      full_query += (full_query.empty() ? "" : "&") + std::string("api_key=") +
                    percent_encode(options.api_key);
    if (!full_query.empty())
      target += "?" + full_query;

    auto cancelled = [&] {
      result.kind = result_kind::cancelled;
      result.data = nullptr;
      result.error.clear();
      return result;
    };

    for (int attempt = 1;; ++attempt) {
      if (token.cancelled())
        return cancelled();
      auto budget_start = steady::now();
      bool granted = budget.acquire(token);
      auto budget_waited = since(budget_start);
      result.stats.budget_wait += budget_waited;
      if (!granted)
        return cancelled();
      owner.notify_budget_wait(budget_waited);

      result.stats.requests += 1;
      auto raw = send(target, token);
      result.stats.statuses.push_back(raw.answered ? raw.status : 0);
      if (token.cancelled())
        return cancelled();

      auto verdict =
        raw.answered
          ? classify_response(raw.status, raw.body, raw.retry_after, shape)
          : classify_transport_error(raw.transport_error);
      if (raw.answered && raw.status == 429)
        result.stats.rate_limited += 1;

      switch (verdict.kind) {
        case answer_kind::ok:
          result.kind = result_kind::ok;
          result.data = std::move(verdict.data);
          return result;
        case answer_kind::not_found:
          // A detail may be missing; a player's match list never is, so a
          // 404 there means a wrong URL or account, and fails the call.
          if (shape == expected_shape::match_list) {
            result.kind = result_kind::failed;
            result.error = "GET " + path + ": " + verdict.message;
          } else {
            result.kind = result_kind::not_found;
          }
          return result;
        case answer_kind::daily_limit:
          result.kind = result_kind::daily_limit;
          result.error = verdict.message;
          return result;
        case answer_kind::failed:
          result.kind = result_kind::failed;
          result.error = "GET " + path + ": " + verdict.message;
          return result;
        case answer_kind::rate_limited:
        case answer_kind::retryable:
          break;
      }

      if (attempt > options.max_retries) {
        result.kind = result_kind::failed;
        result.error = "GET " + path + ": gave up after " +
                       std::to_string(attempt) + " attempts: " +
                       verdict.message;
        return result;
      }
      // Retry-After is honoured to the second, without jitter: the upstream
      // said when; anything else backs off exponentially with jitter.
      std::chrono::milliseconds delay =
        verdict.retry_after
          ? std::chrono::milliseconds(*verdict.retry_after)
          : backoff_delay(attempt, jitter(), options.backoff);
      if (verdict.kind == answer_kind::rate_limited)
        owner.notify_wait(wait_notice::cause::rate_limited, delay);
      auto wait_start = steady::now();
      bool waited = token.wait_for(delay);
      result.stats.backoff_wait += since(wait_start);
      if (!waited)
        return cancelled();
    }
  }

  // The turn of one fetch on this object. A flag under a plain mutex rather
  // than std::timed_mutex::try_lock_for: libstdc++ implements that with
  // pthread_mutex_clocklock, which GCC 12's ThreadSanitizer does not
  // intercept, so TSan saw every unlock as one of an unlocked mutex.
  class call_turn {
  public:
    explicit call_turn(impl& owner) : owner_(owner) {}
    ~call_turn() {
      if (!taken_)
        return;
      {
        std::lock_guard<std::mutex> lock(owner_.call_mutex);
        owner_.call_busy = false;
      }
      owner_.call_free.notify_one();
    }
    call_turn(const call_turn&) = delete;
    call_turn& operator=(const call_turn&) = delete;

    // Waits for the turn; false when `token` is cancelled first (checked
    // every 20 ms, the token's own wait would need a second lock).
    bool take(cancel_token& token) {
      std::unique_lock<std::mutex> lock(owner_.call_mutex);
      while (owner_.call_busy) {
        if (token.cancelled())
          return false;
        owner_.call_free.wait_for(lock, std::chrono::milliseconds(20));
      }
      owner_.call_busy = true;
      taken_ = true;
      return true;
    }

  private:
    impl& owner_;
    bool taken_ = false;
  };

  double jitter() {
    return std::uniform_real_distribution<double>(0.0, 1.0)(jitter_source);
  }

  http_client& owner;  // whose observer hears of waits
  http_client_options options;
  upstream_url url;
  rate_budget& budget;
  httplib::Client http;
  std::mt19937_64 jitter_source;
  std::mutex call_mutex;
  std::condition_variable call_free;
  bool call_busy = false;
  std::mutex socket_mutex;
  int socket_dup = -1;
  bool aborted = false;
};

http_client::http_client(http_client_options options, rate_budget& budget)
  : impl_(std::make_unique<impl>(*this, std::move(options), budget)) {}

http_client::~http_client() = default;

list_result http_client::list_matches(std::int64_t account_id, int limit,
                                      int offset, cancel_token& token) {
  return impl_->fetch("/api/players/" + std::to_string(account_id) +
                        "/matches",
                      "limit=" + std::to_string(limit) +
                        "&offset=" + std::to_string(offset) + "&significant=0",
                      expected_shape::match_list, token);
}

detail_result http_client::match_detail(std::int64_t match_id,
                                        cancel_token& token) {
  return impl_->fetch("/api/matches/" + std::to_string(match_id), "",
                      expected_shape::match_detail, token);
}

}  // namespace matchsync::upstream
