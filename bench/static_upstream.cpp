#include "bench/static_upstream.hpp"

#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace matchsync::bench {

struct static_upstream::impl {
  nlohmann::json history;
  std::string head, tail;
  std::vector<std::string> details;                    // a pool, when given
  std::unordered_map<std::int64_t, std::size_t> index;  // match id -> place
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
  serve();
}

static_upstream::static_upstream(nlohmann::json history, std::vector<std::string> details)
  : impl_(std::make_unique<impl>()) {
  if (details.empty())
    throw std::runtime_error("static upstream: no details");
  impl_->history = std::move(history);
  impl_->details = std::move(details);
  for (std::size_t k = 0; k < impl_->history.size(); ++k)
    impl_->index[impl_->history[k]["match_id"].get<std::int64_t>()] = k;
  serve();
}

void static_upstream::serve() {
  auto* p = impl_.get();
  p->server.new_task_queue = [] { return new httplib::ThreadPool(8); };
  // Without it a kept-alive connection waits for delayed ACKs (~40 ms).
  p->server.set_tcp_nodelay(true);
  p->server.Get(R"(/api/players/(\d+)/matches)",
                [p](const httplib::Request& req, httplib::Response& res) {
                  // Without `limit`, the whole history (as OpenDota answers).
                  auto param = [&](const char* key, long long none) {
                    auto v = req.get_param_value(key);
                    return v.empty() ? none : std::stoll(v);
                  };
                  auto limit = param("limit", 0);
                  if (limit <= 0)
                    limit = static_cast<long long>(p->history.size());
                  auto offset = param("offset", 0);
                  auto page = nlohmann::json::array();
                  for (auto i = offset; i < offset + limit &&
                                        i < static_cast<long long>(p->history.size());
                       ++i)
                    page.push_back(p->history[static_cast<std::size_t>(i)]);
                  res.set_content(page.dump(), "application/json");
                });
  p->server.Get(R"(/api/matches/(\d+))",
                [p](const httplib::Request& req, httplib::Response& res) {
                  if (!p->details.empty()) {
                    auto at = p->index.find(std::stoll(req.matches[1].str()));
                    if (at == p->index.end()) {
                      res.status = 404;
                      res.set_content(R"({"error":"Not Found"})", "application/json");
                      return;
                    }
                    res.set_content(p->details[at->second % p->details.size()],
                                    "application/json");
                    return;
                  }
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
