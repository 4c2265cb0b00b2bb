#include "http/server.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace matchsync::http {

namespace {
void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}
}  // namespace

api_server::api_server(const config& cfg, services svc)
  : cfg_(cfg), svc_(std::move(svc)), server_(std::make_unique<httplib::Server>()) {
  int threads = cfg_.http_threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(64 * 1024);
  install_routes();
}

api_server::~api_server() = default;

void api_server::install_routes() {
  server_->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, {{"status", "ok"}});
  });
  server_->Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    auto reason = svc_.readiness ? svc_.readiness() : std::nullopt;
    if (reason)
      send_json(res, 503, {{"detail", *reason}});
    else
      send_json(res, 200, {{"status", "ready"}});
  });
  // Unknown routes and errors answer JSON, never HTML.
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return;
    const char* detail = res.status == 404   ? "Not Found"
                         : res.status == 413 ? "Request body too large"
                         : res.status == 405 ? "Method Not Allowed"
                                             : "Error";
    send_json(res, res.status, {{"detail", detail}});
  });
}

int api_server::bind() {
  int port = cfg_.http_port == 0
               ? server_->bind_to_any_port(cfg_.http_host)
               : (server_->bind_to_port(cfg_.http_host, cfg_.http_port)
                    ? cfg_.http_port
                    : -1);
  if (port < 0)
    throw std::runtime_error("cannot listen on " + cfg_.http_host + ":" +
                             std::to_string(cfg_.http_port));
  return port;
}

void api_server::run() { server_->listen_after_bind(); }

void api_server::stop() { server_->stop(); }

}  // namespace matchsync::http
