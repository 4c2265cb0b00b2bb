// fake_opendota: a local stand-in for the OpenDota API with a control
// interface for tests (routes in README.md). Binds 127.0.0.1 on an ephemeral
// port and prints "listening on PORT" as its first line.
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "test/fake_opendota/fake_quota.hpp"
#include "test/fake_opendota/fake_world.hpp"
#include "test/fake_opendota/fault_plan.hpp"

namespace {

using json = nlohmann::json;
using namespace matchsync::fake;
using steady = std::chrono::steady_clock;

struct settings {
  std::uint64_t seed = 1;
  int threads = 64;
  int detail_bytes = 20000;
  bool die_with_parent = false;
};

settings parse_args(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--seed")
      s.seed = std::stoull(value());
    else if (arg == "--threads")
      s.threads = std::stoi(value());
    else if (arg == "--detail-bytes")
      s.detail_bytes = std::stoi(value());
    else if (arg == "--die-with-parent")
      s.die_with_parent = true;
    else
      throw std::invalid_argument("unknown argument " + arg);
  }
  return s;
}

// Everything the routes share, under one lock. Latency sleeps happen outside
// it so that slow answers do not hold up others.
struct fake_state {
  explicit fake_state(const settings& s)
    : config(s), world(s.detail_bytes), plan(s.seed) {}

  void reset() {
    world = fake_world(config.detail_bytes);
    plan = fault_plan(config.seed);
    quota = fake_quota();
    revoked_keys.clear();
    log.clear();
    ++generation;
  }

  double now_ms() const {
    return std::chrono::duration<double, std::milli>(steady::now() - started)
      .count();
  }

  settings config;
  std::mutex mutex;
  steady::time_point started = steady::now();
  fake_world world;
  fault_plan plan;
  fake_quota quota;
  std::set<std::string> revoked_keys;
  std::vector<json> log;
  // Detail answers so far: draws the request-time fields.
  std::uint64_t detail_answers = 0;
  // Bumped by reset, so that an answer still delayed from before a reset
  // does not mark an entry of the new log.
  std::uint64_t generation = 0;
};

// Resets the request's connection with an RST and no answer. httplib hides
// the socket from handlers, so it is found by its address pair; dup2 then
// replaces it atomically (the descriptor number stays taken, so httplib's
// later writes and close hit a dead placeholder, never someone else's
// socket), and SO_LINGER 0 turns the close into a reset.
bool reset_connection(const httplib::Request& req) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr)
    return false;
  bool done = false;
  while (auto* entry = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || fd == ::dirfd(dir))
      continue;
    sockaddr_storage peer{};
    sockaddr_storage local{};
    socklen_t peer_len = sizeof peer;
    socklen_t local_len = sizeof local;
    if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer),
                      &peer_len) != 0 ||
        ::getsockname(static_cast<int>(fd),
                      reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        peer.ss_family != AF_INET)
      continue;
    auto* p = reinterpret_cast<sockaddr_in*>(&peer);
    auto* l = reinterpret_cast<sockaddr_in*>(&local);
    if (ntohs(p->sin_port) != req.remote_port ||
        ntohs(l->sin_port) != req.local_port)
      continue;
    linger hard{1, 0};
    ::setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_LINGER, &hard,
                 sizeof hard);
    int placeholder = ::socket(AF_INET, SOCK_STREAM, 0);
    if (placeholder >= 0) {
      ::dup2(placeholder, static_cast<int>(fd));
      ::close(placeholder);
      done = true;
    }
    break;
  }
  ::closedir(dir);
  return done;
}

std::string default_body(int status) {
  const char* reason = status == 404   ? "Not Found"
                       : status == 429 ? "minute rate limit exceeded"
                       : status >= 500 ? "Internal Server Error"
                                       : "error";
  return json{{"error", reason}}.dump();
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

// The normal answer to an API request: status and body.
struct normal_answer {
  int status = 200;
  std::string body;
};

// The API key as web.ts reads it: a Bearer header, else ?api_key=.
std::string api_key_of(const httplib::Request& req) {
  auto auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0)
    return auth.substr(7);
  return req.get_param_value("api_key");
}

// web.ts's check: a version 1-5 UUID of the RFC 4122 variant.
bool is_key_format(const std::string& key) {
  static const std::regex uuid(
    "^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
    std::regex::icase);
  return std::regex_match(key, uuid);
}

// What the limiter and key check of web.ts answer before any route runs:
// status 0 = go on to the route. Sets the rate headers. Under the lock.
std::pair<int, std::string> gatekeep(fake_state& state, const httplib::Request& req,
                                     httplib::Response& res) {
  auto key = api_key_of(req);
  if (!key.empty() && !is_key_format(key))
    return {400, R"({"error":"Invalid API key format"})"};
  if (!key.empty() && state.revoked_keys.count(key) != 0)
    return {400, R"({"error":"API key invalid. Please check the API dashboard or email support@opendota.com."})"};
  auto v = state.quota.count(fake_quota::wall::now(), !key.empty());
  if (v.remaining_minute)
    res.set_header("X-Rate-Limit-Remaining-Minute", std::to_string(*v.remaining_minute));
  if (v.remaining_day)
    res.set_header("X-Rate-Limit-Remaining-Day", std::to_string(*v.remaining_day));
  if (v.status != 0 && state.quota.limits().retry_after)
    res.set_header("Retry-After", *state.quota.limits().retry_after);
  return {v.status, v.body};
}

// Serves one API request: logs it, lets the limiter judge it, asks the fault
// plan, waits, answers.
void serve_api(fake_state& state, const httplib::Request& req,
               httplib::Response& res,
               const std::function<normal_answer()>& normal) {
  planned_answer plan;
  normal_answer answer;
  std::size_t seq = 0;
  std::uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    generation = state.generation;
    json params = json::object();
    for (const auto& [k, v] : req.params)
      params[k] = v;
    auto q = req.target.find('?');
    seq = state.log.size();
    auto [refused, refusal] = gatekeep(state, req, res);
    if (refused != 0) {
      // Refused before any route: no script is consumed, no latency added.
      state.log.push_back({{"seq", seq},
                           {"method", req.method},
                           {"path", req.path},
                           {"query", q == std::string::npos ? "" : req.target.substr(q + 1)},
                           {"params", params},
                           {"t_ms", state.now_ms()},
                           {"status", refused},
                           {"action", refused == 400 ? "bad_key" : "quota"},
                           {"retry_after", res.get_header_value("Retry-After")},
                           {"done", true}});
      res.status = refused;
      res.set_content(refusal, "application/json");
      return;
    }
    plan = state.plan.next(req.path);
    answer = normal();
    int status = plan.what == action::pass        ? answer.status
                 : plan.what == action::status      ? plan.status
                 : plan.what == action::daily_limit ? 429
                 : plan.what == action::reset       ? 0
                                                    : 200;
    state.log.push_back({{"seq", seq},
                         {"method", req.method},
                         {"path", req.path},
                         {"query", q == std::string::npos ? ""
                                                          : req.target.substr(q + 1)},
                         {"params", params},
                         {"t_ms", state.now_ms()},
                         {"status", status},
                         {"action", to_string(plan.what)},
                         {"retry_after", plan.retry_after.value_or("")},
                         {"done", false}});
  }
  if (plan.delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(plan.delay_ms));

  switch (plan.what) {
    case action::pass:
      res.status = answer.status;
      res.set_content(answer.body, "application/json");
      break;
    case action::status:
      res.status = plan.status;
      res.set_content(plan.body.empty() ? default_body(plan.status) : plan.body,
                      "application/json");
      if (plan.retry_after)
        res.set_header("Retry-After", *plan.retry_after);
      break;
    case action::daily_limit:
      res.status = 429;
      res.set_content(plan.body.empty()
                        ? R"({"error":"daily api limit exceeded"})"
                        : plan.body,
                      "application/json");
      break;
    case action::malformed:
      res.status = 200;
      res.set_content(answer.body.substr(0, answer.body.size() * 6 / 10),
                      "application/json");
      break;
    case action::truncate: {
      // Content-Length promises the whole body; half of it is written, then
      // the provider fails, which makes httplib drop the connection.
      auto body = std::make_shared<std::string>(std::move(answer.body));
      res.status = 200;
      res.set_content_provider(
        body->size(), "application/json",
        [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
          auto half = body->size() / 2;
          if (offset < half)
            sink.write(body->data() + offset, half - offset);
          return false;
        });
      break;
    }
    case action::reset:
      reset_connection(req);
      res.status = 500;
      break;
  }
  std::lock_guard<std::mutex> lock(state.mutex);
  if (generation == state.generation && seq < state.log.size())
    state.log[seq]["done"] = true;
}

std::int64_t int_param(const httplib::Request& req, const char* name,
                       std::int64_t fallback) {
  if (!req.has_param(name))
    return fallback;
  return std::stoll(req.get_param_value(name));
}

// Control routes: JSON body in (empty = {}), JSON out, 400 on bad input.
void control(httplib::Server& server, const std::string& method,
             const std::string& pattern, fake_state& state,
             std::function<json(const httplib::Request&, const json&)> fn) {
  auto handler = [&state, fn](const httplib::Request& req,
                              httplib::Response& res) {
    try {
      json body = req.body.empty() ? json::object() : json::parse(req.body);
      if (!body.is_object())
        throw std::invalid_argument("body must be a JSON object");
      std::lock_guard<std::mutex> lock(state.mutex);
      send_json(res, 200, fn(req, body));
    } catch (const std::exception& e) {
      send_json(res, 400, {{"error", e.what()}});
    }
  };
  if (method == "GET")
    server.Get(pattern, handler);
  else
    server.Post(pattern, handler);
}

void register_control_routes(httplib::Server& server, fake_state& state);

void add_routes(httplib::Server& server, fake_state& state) {
  server.Get(R"(/api/players/(-?\d+)/matches)",
             [&state](const httplib::Request& req, httplib::Response& res) {
               std::int64_t account = 0, limit = -1, offset = 0;
               try {
                 account = std::stoll(req.matches[1]);
                 limit = int_param(req, "limit", -1);
                 offset = int_param(req, "offset", 0);
               } catch (const std::exception&) {
                 send_json(res, 400, {{"error", "invalid query"}});
                 return;
               }
               serve_api(state, req, res, [&] {
                 return normal_answer{
                   200, state.world.page(account, limit, offset).dump()};
               });
             });
  server.Get(R"(/api/players/(-?\d+)/wl)",
             [&state](const httplib::Request& req, httplib::Response& res) {
               auto account = std::stoll(req.matches[1]);
               serve_api(state, req, res, [&] {
                 return normal_answer{200, state.world.win_loss(account).dump()};
               });
             });
  server.Get(R"(/api/players/(-?\d+))",
             [&state](const httplib::Request& req, httplib::Response& res) {
               auto account = std::stoll(req.matches[1]);
               serve_api(state, req, res, [&] {
                 auto p = state.world.player(account);
                 return p ? normal_answer{200, p->dump()}
                          : normal_answer{404, default_body(404)};
               });
             });
  server.Get(R"(/api/matches/(-?\d+))",
             [&state](const httplib::Request& req, httplib::Response& res) {
               std::int64_t match_id = 0;
               try {
                 match_id = std::stoll(req.matches[1]);
               } catch (const std::exception&) {
                 send_json(res, 400, {{"error", "invalid match id"}});
                 return;
               }
               serve_api(state, req, res, [&] {
                 auto d = state.world.detail_text(match_id, ++state.detail_answers);
                 return d ? normal_answer{200, std::move(*d)}
                          : normal_answer{404, default_body(404)};
               });
             });

  register_control_routes(server, state);
  // Last, so that it only gets what no route above took: unknown paths are
  // answered 404 like OpenDota, and logged (a client's wrong URL shows up).
  server.Get(".*", [&state](const httplib::Request& req, httplib::Response& res) {
    serve_api(state, req, res, [] { return normal_answer{404, default_body(404)}; });
  });
}

void register_control_routes(httplib::Server& server, fake_state& state) {
  control(server, "POST", "/_control/reset", state,
          [&state](const httplib::Request&, const json&) {
            state.reset();
            return json{{"ok", true}};
          });
  control(server, "GET", "/_control/log", state,
          [&state](const httplib::Request& req, const json&) {
            auto since = static_cast<std::size_t>(int_param(req, "since", 0));
            auto out = json::array();
            for (auto i = since; i < state.log.size(); ++i)
              out.push_back(state.log[i]);
            return json{{"requests", out}, {"now_ms", state.now_ms()}};
          });
  control(server, "GET", "/_control/scripts", state,
          [&state](const httplib::Request&, const json&) {
            return json{{"pending", state.plan.pending()}};
          });
  control(server, "POST", R"(/_control/accounts/(-?\d+)/size)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto account = std::stoll(req.matches[1]);
            state.world.set_size(account, body.at("size").get<std::int64_t>());
            return json{{"size", state.world.size(account)}};
          });
  control(server, "POST", R"(/_control/accounts/(-?\d+)/append)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto account = std::stoll(req.matches[1]);
            auto ids = state.world.append(account, body.value("count", 1));
            return json{{"size", state.world.size(account)}, {"match_ids", ids}};
          });
  control(server, "GET", R"(/_control/accounts/(-?\d+)/matches)", state,
          [&state](const httplib::Request& req, const json&) {
            auto account = std::stoll(req.matches[1]);
            return json{{"matches", state.world.page(account, -1, 0)}};
          });
  control(server, "POST", R"(/_control/accounts/(-?\d+)/kind)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto account = std::stoll(req.matches[1]);
            auto kind = body.at("kind").get<std::string>();
            if (kind == "normal")
              state.world.set_kind(account, account_kind::normal);
            else if (kind == "private")
              state.world.set_kind(account, account_kind::hidden);
            else if (kind == "unknown")
              state.world.set_kind(account, account_kind::unknown);
            else
              throw std::invalid_argument("kind must be normal, private or unknown");
            return json{{"kind", kind}};
          });
  control(server, "POST", "/_control/limits", state,
          [&state](const httplib::Request&, const json& body) {
            quota_limits l;
            l.per_minute = body.value("per_minute", std::int64_t{0});
            l.per_day = body.value("per_day", std::int64_t{0});
            auto start = body.value("day_start_utc", std::string("00:00"));
            int h = 0, m = 0;
            if (std::sscanf(start.c_str(), "%d:%d", &h, &m) != 2 || h < 0 || h > 23 ||
                m < 0 || m > 59)
              throw std::invalid_argument("day_start_utc must be HH:MM");
            l.day_start_minute = h * 60 + m;
            if (body.contains("retry_after"))
              l.retry_after = body["retry_after"].is_string()
                                ? body["retry_after"].get<std::string>()
                                : body["retry_after"].dump();
            if (l.per_minute < 0 || l.per_day < 0)
              throw std::invalid_argument("limits must be >= 0");
            state.quota.set_limits(std::move(l));
            state.revoked_keys.clear();
            for (const auto& k : body.value("revoked_keys", json::array()))
              state.revoked_keys.insert(k.get<std::string>());
            return json{{"ok", true}};
          });
  control(server, "GET", "/_control/quota", state,
          [&state](const httplib::Request&, const json&) {
            auto now = fake_quota::wall::now();
            return json{{"minute", fake_quota::minute_index(now)},
                        {"used_minute", state.quota.used_minute(now)},
                        {"day", state.quota.day_index(now)},
                        {"used_day", state.quota.used_day(now)}};
          });
  control(server, "POST", R"(/_control/matches/(-?\d+)/change)", state,
          [&state](const httplib::Request& req, const json&) {
            auto id = std::stoll(req.matches[1]);
            return json{{"match_id", id}, {"version", state.world.change(id)}};
          });
  control(server, "POST", R"(/_control/matches/(-?\d+)/hidden)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto id = std::stoll(req.matches[1]);
            bool on = body.value("hidden", true);
            state.world.set_hidden(id, on);
            return json{{"match_id", id}, {"hidden", on}};
          });
  control(server, "POST", R"(/_control/accounts/(-?\d+)/share)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto player = std::stoll(req.matches[1]);
            auto owner = body.at("owner").get<std::int64_t>();
            auto count = body.value("count", std::int64_t{0});
            if (count < 0)
              throw std::invalid_argument("count must be >= 0");
            return json{{"match_ids", state.world.share(player, owner, count)}};
          });
  control(server, "POST", R"(/_control/accounts/(-?\d+)/unparsed)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto account = std::stoll(req.matches[1]);
            bool on = body.value("unparsed", true);
            state.world.set_unparsed(account, on);
            return json{{"account_id", account}, {"unparsed", on}};
          });
  control(server, "POST", R"(/_control/matches/(-?\d+)/parse)", state,
          [&state](const httplib::Request& req, const json&) {
            auto id = std::stoll(req.matches[1]);
            return json{{"match_id", id}, {"version", state.world.parse(id)}};
          });
  control(server, "POST", R"(/_control/matches/(-?\d+)/no_details)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto id = std::stoll(req.matches[1]);
            bool on = body.value("no_details", true);
            state.world.set_no_details(id, on);
            return json{{"match_id", id}, {"no_details", on}};
          });
  control(server, "POST", R"(/_control/matches/(-?\d+)/bad_escapes)", state,
          [&state](const httplib::Request& req, const json& body) {
            auto id = std::stoll(req.matches[1]);
            bool on = body.value("bad_escapes", true);
            state.world.set_bad_escapes(id, on);
            return json{{"match_id", id}, {"bad_escapes", on}};
          });
  control(server, "POST", "/_control/request_time_fields", state,
          [&state](const httplib::Request&, const json& body) {
            bool on = body.value("on", true);
            state.world.set_request_time_fields(on);
            return json{{"request_time_fields", on}};
          });
  control(server, "POST", "/_control/latency", state,
          [&state](const httplib::Request&, const json& body) {
            state.plan.set_latency(body.value("fixed_ms", 0),
                                   body.value("jitter_ms", 0),
                                   body.value("seed", state.config.seed));
            return json{{"ok", true}};
          });
  control(server, "POST", "/_control/detail_size", state,
          [&state](const httplib::Request&, const json& body) {
            state.world.set_detail_bytes(body.at("bytes").get<int>());
            return json{{"ok", true}};
          });
  control(server, "POST", "/_control/shapes", state,
          [&state](const httplib::Request&, const json& body) {
            bool real = body.at("real").get<bool>();
            int parsed = body.value("parsed_percent", 45);
            if (parsed < 0 || parsed > 100)
              throw std::invalid_argument("parsed_percent must be 0..100");
            state.world.set_real_shapes(real, parsed);
            return json{{"real", real}};
          });
  control(server, "POST", "/_control/script", state,
          [&state](const httplib::Request&, const json& body) {
            std::vector<planned_answer> answers;
            for (const auto& entry : body.at("answers")) {
              auto more = answers_from_json(entry);
              answers.insert(answers.end(), more.begin(), more.end());
            }
            state.plan.add_script(body.at("path").get<std::string>(),
                                  std::move(answers));
            return json{{"pending", state.plan.pending()}};
          });
  control(server, "POST", "/_control/random_faults", state,
          [&state](const httplib::Request&, const json& body) {
            std::vector<std::pair<double, std::vector<planned_answer>>> faults;
            for (const auto& f : body.value("faults", json::array()))
              faults.emplace_back(f.at("rate").get<double>(),
                                  answers_from_json(f.at("answer")));
            state.plan.set_random_faults(std::move(faults),
                                         body.value("seed", state.config.seed),
                                         body.value("path", std::string(".*")));
            return json{{"ok", true}};
          });
  control(server, "POST", "/_control/random_errors", state,
          [&state](const httplib::Request&, const json& body) {
            state.plan.set_random_errors(
              body.value("rate", 0.0),
              body.value("statuses", std::vector<int>{500, 502, 503}),
              body.value("seed", state.config.seed),
              body.value("path", std::string(".*")));
            return json{{"ok", true}};
          });
}

}  // namespace

int main(int argc, char** argv) {
  settings config;
  try {
    config = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "fake_opendota: " << e.what() << "\n"
              << "usage: fake_opendota [--seed N] [--threads N] "
                 "[--detail-bytes N] [--die-with-parent]\n";
    return 2;
  }
  if (config.die_with_parent) {
    // A crashed test must not leave fakes behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1)
      return 1;
  }
  // SIGTERM/SIGINT are taken by a thread that stops the server cleanly.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  fake_state state(config);
  httplib::Server server;
  int threads = config.threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Without it a kept-alive connection waits for delayed ACKs (~40 ms per
  // answer), as the real OpenDota behind its CDN does not.
  server.set_tcp_nodelay(true);
  add_routes(server, state);

  int port = server.bind_to_any_port("127.0.0.1");
  if (port <= 0) {
    std::cerr << "fake_opendota: cannot bind 127.0.0.1\n";
    return 1;
  }
  std::cout << "listening on " << port << std::endl;

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.stop();
  });
  stopper.detach();
  server.listen_after_bind();
  return 0;
}
