#include "bench/static_upstream.hpp"

#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace matchsync::bench {

struct static_upstream::impl {
  nlohmann::json history;
  std::string head, tail;
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

static_upstream::static_upstream(nlohmann::json history,
                                 const nlohmann::json& detail_template)
  : impl_(std::make_unique<impl>()) {
  impl_->history = std::move(history);
  auto d = detail_template;
  d["match_id"] = 0;
  auto text = d.dump();
  auto at = text.find("\"match_id\":0");
  if (at == std::string::npos)
    throw std::runtime_error("detail template has no match_id");
  impl_->head = text.substr(0, at + 11);
  impl_->tail = text.substr(at + 12);
  auto* p = impl_.get();
  p->server.new_task_queue = [] { return new httplib::ThreadPool(8); };
  // Without it a kept-alive connection waits for delayed ACKs (~40 ms).
  p->server.set_tcp_nodelay(true);
  p->server.Get(R"(/api/players/(\d+)/matches)",
                [p](const httplib::Request& req, httplib::Response& res) {
                  auto limit = std::stoll(req.get_param_value("limit"));
                  auto offset = std::stoll(req.get_param_value("offset"));
                  auto page = nlohmann::json::array();
                  for (auto i = offset; i < offset + limit &&
                                        i < static_cast<long long>(p->history.size());
                       ++i)
                    page.push_back(p->history[static_cast<std::size_t>(i)]);
                  res.set_content(page.dump(), "application/json");
                });
  p->server.Get(R"(/api/matches/(\d+))",
                [p](const httplib::Request& req, httplib::Response& res) {
                  res.set_content(p->head + req.matches[1].str() + p->tail,
                                  "application/json");
                });
  p->port = p->server.bind_to_any_port("127.0.0.1");
  if (p->port <= 0)
    throw std::runtime_error("static upstream: cannot bind");
  p->thread = std::thread([p] { p->server.listen_after_bind(); });
}

static_upstream::~static_upstream() {
  impl_->server.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

std::string static_upstream::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

}  // namespace matchsync::bench
