#include "http/json_views.hpp"

#include <cmath>
#include <ctime>

namespace matchsync::http {

namespace {
using json = nlohmann::ordered_json;

template <class T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

double round_to(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}
}  // namespace

json job_view(const sync_job& job) {
  // A terminal job has no phase, whatever a late writer left behind.
  std::optional<std::string> phase = is_terminal(job.status) ? std::nullopt : job.phase;
  // A quota wait shows as its own phase; the row keeps the phase the job
  // resumes in.
  std::optional<std::string> resume_at;
  if (phase && job.resume_at) {
    phase = "waiting_quota";
    resume_at = job.resume_at;
  }
  return json{
    {"id", job.id},
    {"account_id", job.account_id},
    {"job_type", to_string(job.type)},
    {"status", to_string(job.status)},
    {"phase", or_null(phase)},
    {"resume_at", or_null(resume_at)},
    {"total_matches", job.total_matches},
    {"processed_matches", job.processed_matches},
    {"new_matches", job.new_matches},
    {"updated_matches", job.updated_matches},
    {"failed_matches", job.failed_matches},
    {"progress_percentage", job.progress_percentage()},
    {"node", or_null(job.node)},
    {"attempt", job.attempt},
    {"created_at", job.created_at},
    {"started_at", or_null(job.started_at)},
    {"completed_at", or_null(job.completed_at)},
    {"cancel_requested_at", or_null(job.cancel_requested_at)},
    {"error_message", or_null(job.error_message)},
  };
}

json match_view(const db::match_row& m, bool with_details) {
  json won = nullptr;
  if (m.player_slot && m.radiant_win)
    won = (*m.player_slot < 128) == *m.radiant_win;
  json out{
    {"match_id", m.match_id},
    {"start_time", or_null(m.start_time)},
    {"duration", or_null(m.duration)},
    {"hero_id", or_null(m.hero_id)},
    {"player_slot", or_null(m.player_slot)},
    {"radiant_win", or_null(m.radiant_win)},
    {"won", won},
    {"kills", or_null(m.kills)},
    {"deaths", or_null(m.deaths)},
    {"assists", or_null(m.assists)},
    {"game_mode", or_null(m.game_mode)},
    {"lobby_type", or_null(m.lobby_type)},
    {"has_details", m.has_details},
  };
  if (with_details) {
    json details = nullptr;
    if (m.details_json) {
      auto parsed = json::parse(*m.details_json, nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object())
        details = std::move(parsed);
    }
    out["details"] = std::move(details);
  }
  return out;
}

json stats_view(const db::match_stats& s) {
  auto decided = s.wins + s.losses;
  double win_rate = decided > 0 ? static_cast<double>(s.wins) / static_cast<double>(decided)
                                : 0.0;
  return json{
    {"total_matches", s.total_matches},
    {"wins", s.wins},
    {"losses", s.losses},
    {"win_rate", round_to(win_rate, 4)},
    {"avg_kills", round_to(s.avg_kills, 2)},
    {"avg_deaths", round_to(s.avg_deaths, 2)},
    {"avg_assists", round_to(s.avg_assists, 2)},
  };
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace matchsync::http
