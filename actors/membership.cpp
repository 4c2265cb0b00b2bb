#include "actors/membership.hpp"

namespace matchsync {

bool membership::add(const std::string& node, int slots, clock::time_point now) {
  if (nodes_.count(node) > 0)
    return false;
  member m;
  m.slots = slots;
  m.last_seen = now;
  nodes_.emplace(node, std::move(m));
  return true;
}

std::vector<job_run> membership::remove(const std::string& node) {
  auto it = nodes_.find(node);
  if (it == nodes_.end())
    return {};
  std::vector<job_run> runs(it->second.runs.begin(), it->second.runs.end());
  nodes_.erase(it);
  for (auto& r : runs) {
    auto c = current_.find(r.job_id);
    if (c != current_.end() && c->second.node == node && c->second.run == r)
      current_.erase(c);
  }
  return runs;
}

membership::member* membership::find(const std::string& node) {
  auto it = nodes_.find(node);
  return it == nodes_.end() ? nullptr : &it->second;
}

bool membership::touch(const std::string& node, clock::time_point now) {
  auto* m = find(node);
  if (!m)
    return false;
  if (now > m->last_seen)
    m->last_seen = now;
  return true;
}

std::vector<std::string> membership::silent(clock::time_point now,
                                            clock::duration timeout) const {
  std::vector<std::string> out;
  for (auto& [name, m] : nodes_)
    if (now - m.last_seen > timeout)
      out.push_back(name);
  return out;
}

membership::member* membership::pick(std::string* name) {
  member* best = nullptr;
  for (auto& [id, m] : nodes_)
    if (m.free() > 0 && (!best || m.free() > best->free())) {
      best = &m;
      if (name)
        *name = id;
    }
  return best;
}

void membership::assign(const std::string& node, job_run run) {
  auto* m = find(node);
  if (!m)
    return;
  m->runs.insert(run);
  auto c = current_.find(run.job_id);
  // A late assignment of an older run never displaces a newer one.
  if (c == current_.end() || c->second.run.attempt <= run.attempt)
    current_[run.job_id] = owner{node, run};
}

bool membership::release(job_run run) {
  bool known = false;
  for (auto& [name, m] : nodes_) {
    known = m.runs.erase(run) > 0 || known;
    m.parked.erase(run);
  }
  auto c = current_.find(run.job_id);
  if (c != current_.end() && c->second.run == run)
    current_.erase(c);
  return known;
}

bool membership::park(job_run run, bool waiting) {
  auto c = current_.find(run.job_id);
  if (c == current_.end() || !(c->second.run == run))
    return false;
  auto* m = find(c->second.node);
  if (!m || m->runs.count(run) == 0)
    return false;
  if (!waiting) {
    m->parked.erase(run);
    return false;
  }
  auto before = m->free();
  m->parked.insert(run);
  return m->free() > before;
}

std::optional<membership::owner> membership::owner_of(std::int64_t job_id) const {
  auto c = current_.find(job_id);
  if (c == current_.end())
    return std::nullopt;
  return c->second;
}

std::vector<std::int64_t> membership::job_ids(const std::string& node) const {
  std::vector<std::int64_t> out;
  auto it = nodes_.find(node);
  if (it == nodes_.end())
    return out;
  for (auto& r : it->second.runs)
    if (out.empty() || out.back() != r.job_id)
      out.push_back(r.job_id);
  return out;
}

}  // namespace matchsync
