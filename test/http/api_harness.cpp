#include "test/http/api_harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <boost/test/unit_test.hpp>

#include "core/token.hpp"
#include "http/json_views.hpp"
#include "persistence/database.hpp"
#include "persistence/user_store.hpp"
#include "test/support/pg_fixture.hpp"
#include "test/support/process.hpp"

namespace matchsync::test {

namespace {

using steady = std::chrono::steady_clock;

std::string lower(std::string s) {
  for (auto& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

int connect_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

// Decodes a chunked body from `in` starting at `pos`; appends to `out`.
// Returns true once the last chunk was seen; `pos` advances over whole chunks.
bool decode_chunks(const std::string& in, std::size_t& pos, std::string& out) {
  for (;;) {
    auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos)
      return false;
    std::size_t size = 0;
    try {
      size = std::stoul(in.substr(pos, eol - pos), nullptr, 16);
    } catch (...) {
      return true;  // not chunked after all: stop
    }
    if (size == 0)
      return true;
    if (in.size() < eol + 2 + size + 2)
      return false;
    out.append(in, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
}

// Parses what has arrived; true when the answer is complete. An answer to
// HEAD has headers only, whatever its Content-Length says.
bool parse_response(const std::string& raw, reply& r, bool head_request = false) {
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos)
    return false;
  r = reply{};
  auto first_eol = raw.find("\r\n");
  auto line = raw.substr(0, first_eol);
  auto sp = line.find(' ');
  if (sp != std::string::npos)
    r.status = std::atoi(line.c_str() + sp + 1);
  std::size_t pos = first_eol + 2;
  while (pos < head_end) {
    auto eol = raw.find("\r\n", pos);
    auto h = raw.substr(pos, eol - pos);
    auto colon = h.find(':');
    if (colon != std::string::npos) {
      auto value = h.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(value.begin());
      r.headers.emplace(lower(h.substr(0, colon)), value);
    }
    pos = eol + 2;
  }
  auto body_start = head_end + 4;
  if (head_request)
    return true;
  if (lower(r.header("transfer-encoding")) == "chunked") {
    std::size_t p = body_start;
    return decode_chunks(raw, p, r.body);
  }
  auto cl = r.header("content-length");
  if (!cl.empty()) {
    auto len = std::stoul(cl);
    r.body = raw.substr(body_start, len);
    return raw.size() >= body_start + len;
  }
  r.body = raw.substr(body_start);
  return false;  // until the server closes
}

}  // namespace

nlohmann::json reply::json() const { return nlohmann::json::parse(body, nullptr, false); }

bool reply::is_json() const {
  auto j = json();
  return !j.is_discarded() && header("content-type").find("application/json") == 0;
}

std::string reply::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

reply raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds deadline) {
  reply r;
  int fd = connect_local(port);
  if (fd < 0)
    return r;
  if (!send_all(fd, bytes)) {
    // The server may answer (413) and close before taking the whole body.
  }
  bool head_request = bytes.rfind("HEAD ", 0) == 0;
  std::string raw;
  auto until = steady::now() + deadline;
  char buf[16384];
  bool complete = false;
  while (!complete && steady::now() < until) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      parse_response(raw, r, head_request);
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
    complete = parse_response(raw, r, head_request);
  }
  ::close(fd);
  return r;
}

reply client::send(const std::string& method, const std::string& path,
                   const std::multimap<std::string, std::string>& headers,
                   const std::string& body, const std::string& content_type) const {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token_.empty())
    req += "Authorization: Bearer " + token_ + "\r\n";
  for (auto& [k, v] : headers)
    req += k + ": " + v + "\r\n";
  if (!content_type.empty())
    req += "Content-Type: " + content_type + "\r\n";
  if (method != "GET" && method != "HEAD")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  return raw_exchange(port_, req);
}

reply client::get(const std::string& path) const { return send("GET", path, {}); }

reply client::post(const std::string& path, const std::string& body,
                   const std::string& content_type) const {
  return send("POST", path, {}, body, body.empty() ? "" : content_type);
}

keep_alive_client::keep_alive_client(int port, std::string token)
  : fd_(connect_local(port)), token_(std::move(token)) {
  if (fd_ < 0)
    throw std::runtime_error("keep_alive_client: cannot connect");
}

keep_alive_client::~keep_alive_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool keep_alive_client::send_get(const std::string& path) {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token_.empty())
    req += "Authorization: Bearer " + token_ + "\r\n";
  return send_all(fd_, req + "\r\n");
}

reply keep_alive_client::read(std::chrono::milliseconds deadline) {
  reply r;
  auto until = steady::now() + deadline;
  char buf[16384];
  for (;;) {
    if (parse_response(pending_, r)) {
      // Keep what follows this answer (its length is known: no chunks here).
      auto end = pending_.find("\r\n\r\n") + 4 + r.body.size();
      pending_.erase(0, end);
      return r;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
    if (left.count() <= 0)
      return reply{};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      continue;
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0)
      return reply{};  // closed by the server
    pending_.append(buf, static_cast<std::size_t>(n));
  }
}

reply keep_alive_client::get(const std::string& path) {
  if (!send_get(path))
    return reply{};
  return read();
}

running_server::running_server(const config& cfg, http::services svc)
  : server_(std::make_unique<http::api_server>(cfg, std::move(svc))) {
  port_ = server_->bind();
  thread_ = std::thread([this] { server_->run(); });
}

running_server::~running_server() { stop(); }

std::chrono::milliseconds running_server::stop() {
  if (stopped_)
    return std::chrono::milliseconds(0);
  stopped_ = true;
  auto start = steady::now();
  server_->stop();
  thread_.join();
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

api_harness::api_harness(options opts) : heartbeat_(opts.heartbeat) {
  cfg_.database_url = fresh_database(opts.database);
  if (opts.before_start)
    opts.before_start(cfg_.database_url);
  fake_opendota::options fo;
  fake_ = std::make_unique<fake_opendota>(fo);
  if (opts.upstream_latency_ms > 0)
    fake_->set_latency(opts.upstream_latency_ms);
  cfg_.http_host = "127.0.0.1";
  cfg_.http_port = 0;
  cfg_.auth = "token";
  cfg_.upstream_url = fake_->url();
  cfg_.upstream_rate_per_minute = 0;
  cfg_.upstream_timeout_ms = 5000;
  cfg_.slots = 8;
  cfg_.node_id = "http-test-node";
  cfg_.cluster_port = 0;
  cfg_.http_threads = 16;
  cfg_.sse_max_streams = opts.sse_max_streams;
  cfg_.cancel_timeout_ms = 2000;
  stats_ = std::make_shared<metrics>();
  runtime_ = std::make_unique<runtime>(cfg_, stats_);
  server_ = std::make_unique<running_server>(cfg_, node_services(heartbeat_));
}

api_harness::~api_harness() {
  server_.reset();
  runtime_->shutdown(std::chrono::seconds(5));
  runtime_.reset();
}

http::services api_harness::node_services(std::chrono::milliseconds heartbeat) const {
  http::services svc;
  svc.readiness = [] { return std::optional<std::string>(); };
  svc.jobs = runtime_.get();
  svc.stats = stats_;
  svc.sse_heartbeat = heartbeat;
  return svc;
}

test_user api_harness::add_user(std::int64_t account_id) {
  auto conn = db::connect(cfg_.database_url);
  auto token = generate_token();
  auto u = db::user_store(*conn).create(account_id, std::string("user ") + std::to_string(account_id),
                                        hash_token(token));
  return test_user{u.id, u.account_id, token};
}

nlohmann::json api_harness::wait_terminal(const test_user& u, std::int64_t job_id,
                                          std::chrono::milliseconds deadline) {
  client c(port(), u.token);
  nlohmann::json last;
  bool ended = wait_until(
    [&] {
      auto r = c.get("/sync/jobs/" + std::to_string(job_id));
      last = r.json();
      if (r.status != 200)
        return false;
      auto s = last.value("status", "");
      return s == "completed" || s == "failed" || s == "cancelled";
    },
    deadline);
  // A caller that reads no field of the answer must still fail on a job that
  // never ends.
  BOOST_REQUIRE_MESSAGE(ended, "job " << job_id << " not terminal within " << deadline.count()
                                      << " ms; last answer " << last.dump());
  return last;
}

void api_harness::cancel_active(const test_user& u) {
  client c(port(), u.token);
  auto st = c.get("/sync/status").json();
  if (st.is_object() && st["active_job"].is_object())
    c.post("/sync/cancel/" + std::to_string(st["active_job"]["id"].get<std::int64_t>()));
}

event_client::event_client(int port, std::string token, bool offer_compression) {
  fd_ = connect_local(port);
  if (fd_ < 0)
    throw std::runtime_error("event_client: cannot connect");
  std::string req = "GET /sync/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                    "Connection: close\r\n";
  if (offer_compression)
    req += "Accept-Encoding: gzip, deflate, br\r\n";
  if (!token.empty())
    req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  send_all(fd_, req);
  thread_ = std::thread([this] {
    std::string raw;
    std::size_t body_pos = std::string::npos;
    bool chunked = false;
    char buf[8192];
    for (;;) {
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      std::lock_guard<std::mutex> guard(mutex_);
      raw.append(buf, static_cast<std::size_t>(n));
      if (body_pos == std::string::npos) {
        reply head;
        parse_response(raw, head);
        if (head.status == 0)
          continue;
        status_ = head.status;
        content_encoding_ = head.header("content-encoding");
        chunked = lower(head.header("transfer-encoding")) == "chunked";
        body_pos = raw.find("\r\n\r\n") + 4;
      }
      if (chunked) {
        if (decode_chunks(raw, body_pos, text_))
          ended_ = true;
      } else {
        text_ += raw.substr(body_pos);
        body_pos = raw.size();
      }
      parse_locked();
      changed_.notify_all();
      if (ended_)
        break;
    }
    std::lock_guard<std::mutex> guard(mutex_);
    ended_ = true;
    changed_.notify_all();
  });
}

event_client::~event_client() {
  close();
  if (thread_.joinable())
    thread_.join();
  if (fd_ >= 0)
    ::close(fd_);
}

void event_client::close() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (closing_)
    return;
  closing_ = true;
  ::shutdown(fd_, SHUT_RDWR);
}

void event_client::parse_locked() {
  for (;;) {
    auto end = text_.find("\n\n", parsed_);
    if (end == std::string::npos)
      return;
    auto block = text_.substr(parsed_, end - parsed_);
    parsed_ = end + 2;
    std::string type, data;
    std::size_t pos = 0;
    while (pos <= block.size()) {
      auto eol = block.find('\n', pos);
      if (eol == std::string::npos)
        eol = block.size();
      auto line = block.substr(pos, eol - pos);
      pos = eol + 1;
      if (line.rfind("event: ", 0) == 0)
        type = line.substr(7);
      else if (line.rfind("data: ", 0) == 0)
        data += line.substr(6);
    }
    if (!data.empty())
      events_.push_back(event{type.empty() ? "message" : type,
                              nlohmann::json::parse(data, nullptr, false)});
  }
}

bool event_client::wait_for(const std::function<bool(const std::vector<event>&)>& pred,
                            std::chrono::milliseconds deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, deadline, [&] { return pred(events_); });
}

bool event_client::wait_for_text(const std::string& needle, std::chrono::milliseconds deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, deadline,
                           [&] { return text_.find(needle) != std::string::npos; });
}

std::vector<event_client::event> event_client::events() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return events_;
}

std::string event_client::text() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return text_;
}

int event_client::status() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return status_;
}

std::string event_client::content_encoding() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return content_encoding_;
}

bool event_client::ended() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return ended_;
}

}  // namespace matchsync::test
