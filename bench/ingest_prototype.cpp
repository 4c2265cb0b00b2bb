#include "bench/ingest_prototype.hpp"

#include <climits>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <httplib.h>

#include "persistence/match_store.hpp"
#include "upstream/cancel_token.hpp"
#include "upstream/http_client.hpp"
#include "upstream/rate_budget.hpp"

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

namespace {

// store_detail_sql of persistence/match_store.cpp for a whole batch of
// fetched details: the rows are locked and read once, each detail text is
// cast to jsonb once (in `d`), and the answer counts first-time updates.
constexpr const char* batch_store_sql = R"sql(
WITH d AS (
  SELECT u.match_id, u.details::jsonb AS details
  FROM unnest($2::bigint[], $3::text[]) AS u(match_id, details)
), old AS (
  SELECT m.match_id, m.details, m.changed_by_job FROM matches m JOIN d USING (match_id)
  WHERE m.account_id = $1 FOR UPDATE OF m
), upd AS (
  UPDATE matches m SET details = d.details, details_state = 'fetched',
    changed_by_job = CASE WHEN m.details IS NOT NULL AND m.details IS DISTINCT FROM d.details
                          THEN $4 ELSE m.changed_by_job END,
    updated_at = now()
  FROM d WHERE m.account_id = $1 AND m.match_id = d.match_id
  RETURNING m.match_id
)
SELECT count(*) FROM old JOIN d USING (match_id)
WHERE old.details IS NOT NULL AND old.details IS DISTINCT FROM d.details
  AND old.changed_by_job IS DISTINCT FROM $4 AND EXISTS (SELECT 1 FROM upd)
)sql";

// A Postgres array literal of the texts (each quoted, \ and " escaped).
std::string text_array(const std::vector<std::string>& texts) {
  std::string out = "{";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (i)
      out += ',';
    out += '"';
    for (char c : texts[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string id_array(const std::vector<std::int64_t>& ids, std::size_t b, std::size_t e) {
  std::string out = "{";
  for (auto i = b; i < e; ++i)
    out += (i > b ? "," : "") + std::to_string(ids[i]);
  return out + "}";
}

// A detail fetched and rendered as the text to store.
std::string fetch_rendered(upstream::http_client& http, httplib::Client& raw_http,
                           bool raw, std::int64_t id, upstream::cancel_token& token) {
  if (raw) {
    auto res = raw_http.Get(("/api/matches/" + std::to_string(id)).c_str());
    if (!res || res->status != 200 || !nlohmann::json::accept(res->body))
      throw std::runtime_error("raw fetch of " + std::to_string(id) + " failed");
    return std::move(res->body);
  }
  auto r = http.match_detail(id, token);
  if (!r.ok())
    throw std::runtime_error("fetch of " + std::to_string(id) + " failed: " + r.error);
  return r.data.dump();
}

}  // namespace

std::int64_t pipelined_details(pqxx::connection& conn, const sync_job& job,
                               const db::job_fence& fence,
                               const std::string& upstream_url,
                               const pipeline_settings& s) {
  std::vector<std::int64_t> ids;
  {
    pqxx::read_transaction tx(conn);
    ids = db::match_store::ids_below(tx, job.account_id, job.detail_cursor, false, INT_MAX);
  }
  const std::size_t n = ids.size();
  std::vector<std::optional<std::string>> done(n);
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t next = 0, written = 0;
  std::string failure;
  upstream::local_rate_budget budget(0);
  upstream::cancel_token token;

  auto fetcher = [&] {
    upstream::http_client_options o;
    o.base_url = upstream_url;
    o.seed = 1;
    upstream::http_client http(o, budget);
    auto host_port = upstream_url.substr(upstream_url.find("//") + 2);
    httplib::Client raw_http("http://" + host_port);
    raw_http.set_keep_alive(false);
    for (;;) {
      std::size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] {
          return !failure.empty() || next >= n ||
                 next < written + static_cast<std::size_t>(s.window);
        });
        if (!failure.empty() || next >= n)
          return;
        i = next++;
      }
      try {
        auto text = fetch_rendered(http, raw_http, s.raw, ids[i], token);
        std::lock_guard<std::mutex> lock(mutex);
        done[i] = std::move(text);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex);
        failure = e.what();
      }
      changed.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < s.fetchers; ++k)
    threads.emplace_back(fetcher);

  db::job_progress p;
  p.phase = "details";
  p.total_matches = job.total_matches;
  p.processed_matches = job.processed_matches;
  p.new_matches = job.new_matches;
  p.updated_matches = job.updated_matches;
  p.list_offset = job.list_offset;
  p.list_top_match_id = job.list_top_match_id;
  try {
    for (std::size_t b = 0; b < n; b += static_cast<std::size_t>(s.batch)) {
      auto e = std::min(n, b + static_cast<std::size_t>(s.batch));
      std::vector<std::string> texts;
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] {
          if (!failure.empty())
            return true;
          for (auto i = b; i < e; ++i)
            if (!done[i])
              return false;
          return true;
        });
        if (!failure.empty())
          throw std::runtime_error(failure);
        for (auto i = b; i < e; ++i) {
          texts.push_back(std::move(*done[i]));
          done[i].reset();
        }
      }
      pqxx::work tx(conn);
      if (s.batch_sql) {
        p.updated_matches += tx.exec_params1(batch_store_sql, job.account_id,
                                             id_array(ids, b, e), text_array(texts),
                                             job.id)[0]
                               .as<std::int64_t>();
      } else {
        for (auto i = b; i < e; ++i)
          if (db::match_store::store_detail(tx, job.account_id, ids[i], job.id,
                                            db::detail_outcome::fetched, texts[i - b]))
            ++p.updated_matches;
      }
      p.processed_matches += static_cast<std::int64_t>(e - b);
      p.detail_cursor = ids[e - 1];
      if (!db::job_store::update_progress(tx, fence, p, 3600))
        throw std::runtime_error("fenced");
      tx.commit();
      {
        std::lock_guard<std::mutex> lock(mutex);
        written = e;
      }
      changed.notify_all();
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (failure.empty())
        failure = "writer stopped";
    }
    changed.notify_all();
    for (auto& t : threads)
      t.join();
    throw;
  }
  for (auto& t : threads)
    t.join();
  if (!db::job_store(conn).complete(fence))
    throw std::runtime_error("could not complete the job");
  return static_cast<std::int64_t>(n);
}

}  // namespace matchsync::bench
