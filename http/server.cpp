#include "http/server.hpp"

#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>
#include <thread>

#include "core/log.hpp"
#include "http/elastic_pool.hpp"
#include "http/front_door.hpp"
#include "http/errors.hpp"
#include "http/json_views.hpp"
#include "http/local_guard.hpp"
#include "http/route_path.hpp"
#include "http/routes.hpp"
#include "http/static_files.hpp"
#include "metrics/metrics.hpp"
#include "persistence/user_store.hpp"


namespace matchsync::http {

namespace {

using steady = std::chrono::steady_clock;

// What the access logger needs to know of the request this pool thread is
// serving: httplib calls the logger on the same thread, after the answer.
struct request_timing {
  const char* route = nullptr;  // the route's OpenAPI path, a bounded label
  steady::time_point start{};
  bool started = false;
};

request_timing& current_request() {
  thread_local request_timing t;
  return t;
}

// Keep-alive connections served at most this many requests each before
// they are closed (httplib's default, 5, made every fifth request reconnect).
constexpr std::size_t keep_alive_requests = 1000;
// A kept-alive connection without a new request is closed after this.
constexpr auto keep_alive_idle = std::chrono::seconds(2);
// The pool grows past http_threads while more requests are served at once
// (an event stream holds a thread for its life), up to this many, and
// shrinks back; beyond it a request is answered 503 at once.
constexpr std::size_t max_pool_threads = 256;
constexpr auto pool_idle_timeout = std::chrono::seconds(10);
// Connections the kernel queues for accept(); it caps this at somaxconn.
constexpr int listen_backlog = 1024;
// Database connections for plain reads, whatever the thread count: reads
// are short, and the server's connection limit is shared with the jobs.
constexpr int read_connections = 8;
// How long a read waits for one of them before answering 503.
constexpr auto read_wait = std::chrono::seconds(5);

// httplib's accept loop hands each connection to its task queue; this one
// runs the hand-over (front_door::adopt, which never blocks) on the spot:
// threads are taken per request by the front door, not per connection.
class inline_queue : public httplib::TaskQueue {
public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// Headers every answer carries (SPEC §4), the front door's own included.
const httplib::Headers& hardening_headers() {
  static const httplib::Headers h{{"X-Content-Type-Options", "nosniff"},
                                  {"Referrer-Policy", "no-referrer"}};
  return h;
}

constexpr const char* dashboard_csp =
  "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

std::string header_lines(const httplib::Headers& headers) {
  std::string out;
  for (auto& [k, v] : headers)
    out += k + ": " + v + "\r\n";
  return out;
}

std::unique_ptr<authenticator> make_authenticator(const config& cfg, db::connection_pool& reads) {
  auto* pool = &reads;
  auto lookup = [pool](const std::string& hash) -> std::optional<principal> {
    auto u = pool->read(
      [&](pqxx::connection& c) { return db::user_store(c).find_by_token_hash(hash); });
    if (!u)
      return std::nullopt;
    return principal{u->id, u->account_id};
  };
  auto account = cfg.default_account_id;
  auto default_user = [pool, account]() -> principal {
    if (!account)
      throw domain_error(errc::internal, "auth=none without a default account id");
    auto u = pool->read(
      [&](pqxx::connection& c) { return db::user_store(c).ensure(*account); });
    return principal{u.id, u.account_id};
  };
  return std::make_unique<authenticator>(cfg.auth, lookup, default_user);
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (auto& p : parts)
    out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

api_server::api_server(const config& cfg, services svc)
  : ctx_(std::make_unique<api_context>()) {
  ctx_->cfg = cfg;
  ctx_->svc = std::move(svc);
  if (ctx_->svc.started_at.empty())
    ctx_->svc.started_at = iso_time(std::chrono::system_clock::now());
  db::pool_options reads;
  reads.url = cfg.database_url;
  reads.max_size = read_connections;
  reads.acquire_timeout = read_wait;
  reads.application_name = "matchsync-http";
  ctx_->read_pool = std::make_unique<db::connection_pool>(reads);
  ctx_->auth = make_authenticator(cfg, *ctx_->read_pool);
  ctx_->streams = std::make_unique<stream_quota>(cfg.sse_max_streams);

  // A client that left must cost a failed write, not the process.
  ::signal(SIGPIPE, SIG_IGN);

  // Every open event stream holds a pool thread: keep threads for plain
  // requests whatever the settings say.
  pool_threads_ = std::max(cfg.http_threads, cfg.sse_max_streams + 4);
  if (pool_threads_ != cfg.http_threads)
    log::warn("http_threads raised above sse_max_streams",
              {{"http_threads", std::to_string(pool_threads_)}});
  std::size_t min = static_cast<std::size_t>(pool_threads_);
  std::size_t max = std::max(min, max_pool_threads);
  pool_ = std::make_unique<elastic_pool>(min, max, pool_idle_timeout);
  front_options door;
  door.keep_alive_requests = keep_alive_requests;
  door.keep_alive_idle = keep_alive_idle;
  door.extra_headers = header_lines(hardening_headers());
  front_ = std::make_unique<front_door>(door, *pool_);
  server_ = make_guarded_server(*front_, door.write_timeout);
  server_->new_task_queue = [] { return new inline_queue; };
  // The front door counts chunked bodies too; this stays as a second guard.
  server_->set_payload_max_length(door.limits.max_body);
  server_->set_keep_alive_max_count(keep_alive_requests);
  server_->set_keep_alive_timeout(keep_alive_idle.count());
  server_->set_default_headers(hardening_headers());
  server_->set_tcp_nodelay(true);
  install_routes();
  mount_static_files();
}

api_server::~api_server() {
  // Requests in flight use the server and the context: they end first.
  front_->shutdown();
  pool_->shutdown();
}

void api_server::install_routes() {
  std::vector<route> table;
  for (auto* part : {&sync_routes, &schedule_routes, &match_routes, &ops_routes})
    for (auto& r : (*part)(*ctx_))
      table.push_back(std::move(r));

  struct known_path {
    std::regex re;
    std::string method;
    std::string label;
  };
  auto patterns = std::make_shared<std::vector<known_path>>();
  for (auto& r : table) {
    routes_.push_back(r.info);
    patterns->push_back({std::regex(r.info.pattern), r.info.method, r.info.openapi_path});
    auto handler = [this, r](const httplib::Request& req, httplib::Response& res) {
      current_request().route = r.info.openapi_path.c_str();
      try {
        call c{req, std::nullopt};
        if (r.info.needs_auth) {
          auto a = ctx_->auth->authenticate(req.get_header_value("Authorization"));
          if (!a.who) {
            res.set_header("WWW-Authenticate", "Bearer");
            send_detail(res, 401, a.detail);
            return;
          }
          c.who = a.who;
        }
        r.handle(c, res);
      } catch (const domain_error& e) {
        send_error(res, e.code(), e.what());
      } catch (const std::exception& e) {
        send_error(res, errc::internal, e.what());
      }
    };
    if (r.info.method == "GET")
      server_->Get(r.info.pattern, handler);
    else if (r.info.method == "POST")
      server_->Post(r.info.pattern, handler);
    else if (r.info.method == "PUT")
      server_->Put(r.info.pattern, handler);
    else
      throw std::logic_error("route method not supported: " + r.info.method);
  }

  bool open_mode = ctx_->cfg.auth == "none";
  std::string bound_host = ctx_->cfg.http_host;
  server_->set_pre_routing_handler([open_mode, bound_host](const httplib::Request& req,
                                                           httplib::Response& res) {
    current_request() = request_timing{nullptr, steady::now(), true};
    if (open_mode) {
      // Without tokens, only the user's own tools may act (local_guard.hpp):
      // no other site's page, no rebinding name, no form post.
      std::vector<std::string> own{bound_host, req.local_addr};
      auto host = req.get_header_value("Host");
      auto origin = req.get_header_value("Origin");
      if ((!host.empty() && !is_own_host(host, own)) ||
          (req.has_header("Origin") && !is_own_origin(origin, own))) {
        send_detail(res, 403, "Host or Origin is not this service's own address");
        return httplib::Server::HandlerResponse::Handled;
      }
      if ((req.method == "POST" || req.method == "PUT") &&
          !is_json_content_type(req.get_header_value("Content-Type"))) {
        send_detail(res, 415, req.method + " needs Content-Type: application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    // Before httplib's router: its regexes recurse per character, so long
    // segments are cut to a length that routes the same (route_path.hpp).
    // The request object is httplib's own non-const local.
    if (!routable_path(req.path))
      const_cast<httplib::Request&>(req).path = routed_path(req.path);
    // RFC 9112 §6.3: a request with neither Content-Length nor
    // Transfer-Encoding has no body. httplib 0.11 would read a POST's body
    // until the connection closes (`curl -X POST` waited 5 s for a 400).
    // The request object is httplib's own non-const local.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // Every error answer is JSON: httplib's own (400, 404, 413, 414...) get
  // {"detail": reason}; a path known under another method becomes 405.
  server_->set_error_handler([patterns](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty())
      return;  // already one of ours
    if (res.status == 404 && routable_path(req.path)) {
      std::vector<std::string> allowed;
      for (auto& p : *patterns)
        if (std::regex_match(req.path, p.re))
          allowed.push_back(p.method);
      if (!allowed.empty()) {
        res.status = 405;
        res.set_header("Allow", join(allowed, ", "));
      }
    }
    send_detail(res, res.status, reason_of(res.status));
  });
  server_->set_exception_handler(
    [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep)
          std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      send_error(res, errc::internal, what);
    });

  // Requests by method, route pattern (never the raw path) and status.
  server_->set_logger([this, patterns](const httplib::Request& req, const httplib::Response& res) {
    auto& t = current_request();
    std::string route;
    if (t.route) {
      route = t.route;
    } else if (res.status < 400 && (req.method == "GET" || req.method == "HEAD")) {
      route = "static";
    } else {
      // Refused before its handler ran (405, 413...): still the route's label.
      route = "unmatched";
      for (auto& p : *patterns)
        if (routable_path(req.path) && std::regex_match(req.path, p.re)) {
          route = p.label;
          break;
        }
    }
    double seconds =
      t.started ? std::chrono::duration<double>(steady::now() - t.start).count() : 0.0;
    t = request_timing{};
    if (ctx_->svc.stats)
      ctx_->svc.stats->http_request(req.method, route, res.status, seconds);
  });
}

namespace {
const char* mime_of(const std::string& name) {
  auto ext = name.substr(name.rfind('.') + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "json") return "application/json";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  return "application/octet-stream";
}

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".^$|()[]{}*+?\\", c))
      out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

void api_server::mount_static_files() {
  // The dashboard's pages load only their own scripts and styles and may
  // not be framed (SPEC §4); the header goes on every file it is made of.
  auto headers = [](httplib::Response& res) {
    res.set_header("Content-Security-Policy", dashboard_csp);
    res.set_header("Cache-Control", "no-cache");
  };
  const auto& dir = ctx_->cfg.static_dir;
  if (!dir.empty()) {
    // Development only: files read from a folder at every request.
    server_->set_file_request_handler(
      [headers](const httplib::Request&, httplib::Response& res) { headers(res); });
    // httplib refuses paths that leave the folder ("..") and serves
    // index.html for "/".
    if (!server_->set_mount_point("/", dir))
      log::warn("dashboard files not found; / will answer 404", {{"static_dir", dir}});
    else
      log::warn("dashboard served from a folder (static_dir): for development", {{"static_dir", dir}});
    return;
  }
  for (const auto& [name, content] : dashboard_files()) {
    auto serve = [headers, &content = content, mime = std::string(mime_of(name))](
                   const httplib::Request&, httplib::Response& res) {
      headers(res);
      res.set_content(content, mime.c_str());
    };
    server_->Get("/" + regex_escape(name), serve);
    if (name == "index.html")
      server_->Get("/", serve);
  }
}

int api_server::bind() {
  auto& cfg = ctx_->cfg;
  // httplib listens with a backlog of 5 (compiled into the library): 64
  // clients connecting at once overflowed it, and each dropped SYN cost its
  // client a 1 s retransmission. Keep the listening socket's descriptor
  // (httplib's default options aside) and listen again with a deep backlog.
  auto listen_fd = std::make_shared<int>(-1);
  server_->set_socket_options([listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    *listen_fd = sock;
  });
  int port = cfg.http_port == 0
               ? server_->bind_to_any_port(cfg.http_host)
               : (server_->bind_to_port(cfg.http_host, cfg.http_port) ? cfg.http_port : -1);
  if (port < 0)
    throw std::runtime_error("cannot listen on " + cfg.http_host + ":" +
                             std::to_string(cfg.http_port));
  if (*listen_fd >= 0 && ::listen(*listen_fd, listen_backlog) != 0)
    log::warn("could not deepen the listen backlog", {{"error", std::strerror(errno)}});
  return port;
}

void api_server::run() {
  run_entered_ = true;
  if (!ctx_->stopping)
    server_->listen_after_bind();
  // No new connections now; close the waiting ones, finish those served.
  front_->shutdown();
  pool_->shutdown();
  run_returned_ = true;
}

void api_server::stop() {
  // Streams watch this flag and end within a poll interval; httplib's stop
  // closes the listening socket, and run() returns once the pool has
  // finished the requests in flight.
  ctx_->stopping = true;
  if (!run_entered_)
    return;  // run() will see the flag and not listen at all
  // run() may be between its check and listening: httplib's stop() only
  // acts on a running server.
  auto deadline = steady::now() + std::chrono::seconds(2);
  while (!server_->is_running() && !run_returned_ && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  server_->stop();
}

std::vector<route_info> api_server::routes() const { return routes_; }

int api_server::open_streams() const { return ctx_->open_streams; }

long api_server::database_reads() const { return ctx_->read_pool->snapshot().lent; }

}  // namespace matchsync::http
