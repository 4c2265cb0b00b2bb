#include "actors/coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "actors/job_rules.hpp"
#include "actors/membership.hpp"
#include "actors/messages.hpp"
#include "actors/on_pool.hpp"
#include "core/log.hpp"
#include "persistence/job_store.hpp"
#include "upstream/lease_queue.hpp"
#include "upstream/rate_budget.hpp"

namespace matchsync {

namespace {

using clock = std::chrono::steady_clock;

std::string iso_at(std::chrono::system_clock::time_point at) {
  auto t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// What the coordinator knows of a node beyond its membership: its agent
// and what it told us when it joined.
struct node_entry {
  caf::actor agent;
  node_info info;
};

struct pending_cancel {
  std::int64_t user_id = 0;  // who asked: only their later cancels share the answer
  std::vector<caf::response_promise> waiting;
  clock::time_point started;
  // Cancels of the same id by another user who does own it (the cancel in
  // flight is then a stranger's, about to be refused): handled after it.
  std::vector<std::pair<std::int64_t, caf::response_promise>> after;
};

struct coordinator_state {
  std::shared_ptr<job_context> ctx;
  std::shared_ptr<event_bus> bus;
  std::shared_ptr<upstream::local_rate_budget> budget;
  std::deque<std::int64_t> queue;  // pending jobs to start, oldest first
  std::set<std::int64_t> queued;
  membership members;                     // slots, runs and last signs of life
  std::map<std::string, node_entry> nodes;  // the same nodes' agents
  std::map<caf::actor_addr, std::string> node_of_agent;
  std::map<std::int64_t, pending_cancel> cancels;
  // Other nodes' lease requests, answered when the slot comes, to the job
  // the fair-share rule ranks first among them (upstream/lease_queue.hpp).
  std::unique_ptr<upstream::lease_queue> leases;
  std::map<std::uint64_t, caf::typed_response_promise<std::vector<std::int64_t>, std::int64_t>>
    lease_answers;
  std::uint64_t lease_ids = 0;
  std::optional<clock::time_point> lease_look_at;  // a lease_tick is due then
  bool stopping = false;
};

using coordinator_t = caf::stateful_actor<coordinator_state>;

// Every job change goes out through here: to the event bus, and into the
// counts /metrics shows (metrics::jobs), which a scrape reads instead of
// sync_jobs.
void publish(coordinator_t* self, const sync_job& job) {
  auto& st = self->state;
  if (st.ctx->stats)
    st.ctx->stats->jobs().apply(job);
  st.bus->publish(job);
}

// Jobs the counts hold as running that no node runs now: their final row
// may have been written by a worker whose link broke before it reported it
// (or while this coordinator was down). They are read back by id in the
// next reclaim round.
std::vector<std::int64_t> unowned_running(coordinator_t* self) {
  auto& st = self->state;
  std::vector<std::int64_t> out;
  if (!st.ctx->stats)
    return out;
  for (auto id : st.ctx->stats->jobs().running_ids())
    if (!st.members.running(id))
      out.push_back(id);
  return out;
}

void update_gauges(coordinator_t* self) {
  auto& st = self->state;
  if (!st.ctx->stats)
    return;
  int remote = 0;
  for (auto& [id, n] : st.nodes)
    remote += n.info.local ? 0 : 1;
  st.ctx->stats->set_connected_workers(remote);
}

// Hands a running row (started or taken over for `node`) to that node, as
// the run (job, attempt) it is: an older run of the job on the same node is
// stopped by its agent, and both count against the node's slots until then.
void assign(coordinator_t* self, const sync_job& row) {
  auto& st = self->state;
  auto it = st.nodes.find(row.node.value_or(""));
  if (it == st.nodes.end())
    return;  // the node left meanwhile: the lease runs out, the job is reclaimed
  st.members.assign(it->first, job_run{row.id, row.attempt});
  self->send(it->second.agent, run_atom::value, row);
}

// The agent of the node that runs `job_id`'s current run, and that run.
std::optional<std::pair<caf::actor, job_run>> owner_agent(coordinator_t* self,
                                                          std::int64_t job_id) {
  auto& st = self->state;
  auto owner = st.members.owner_of(job_id);
  if (!owner)
    return std::nullopt;
  auto n = st.nodes.find(owner->node);
  if (n == st.nodes.end())
    return std::nullopt;
  return std::make_pair(n->second.agent, owner->run);
}

void dispatch(coordinator_t* self) {
  auto& st = self->state;
  while (!st.stopping && !st.queue.empty()) {
    std::string node;
    auto* target = st.members.pick(&node);
    if (!target)
      return;
    auto id = st.queue.front();
    st.queue.pop_front();
    st.queued.erase(id);
    ++target->starting;
    auto lease = st.ctx->cfg.job_lease_s;
    on_pool(
      self, *st.ctx->control,
      [id, node, lease](db::session& s) {
        return s.run([&](pqxx::connection& c) { return db::job_store(c).start(id, node, lease); });
      },
      [self, id, node](attempt<std::optional<sync_job>> a) {
        auto& st = self->state;
        if (auto* m = st.members.find(node))
          --m->starting;
        if (!a.ok()) {
          // The database is away: try again later, the job stays pending.
          log::warn("could not start job", {{"job", std::to_string(id)}, {"error", a.message}});
          if (st.queued.insert(id).second)
            st.queue.push_front(id);
          self->delayed_send(self, std::chrono::seconds(1), dispatch_atom::value);
          return;
        }
        if (a.value) {
          publish(self, *a.value);
          if (!st.stopping)
            assign(self, *a.value);
        }
        dispatch(self);
      });
  }
}

void enqueue(coordinator_t* self, std::int64_t id) {
  auto& st = self->state;
  if (!st.members.running(id) && st.queued.insert(id).second)
    st.queue.push_back(id);
}

void handle_cancel(coordinator_t* self, std::int64_t user_id, std::int64_t job_id,
                   caf::response_promise rp);

// Ends the cancel in flight for `it`'s job, then takes up the ones queued
// behind it.
void end_cancel(coordinator_t* self, std::map<std::int64_t, pending_cancel>::iterator it) {
  auto job_id = it->first;
  auto after = std::move(it->second.after);
  self->state.cancels.erase(it);
  for (auto& [user_id, rp] : after)
    handle_cancel(self, user_id, job_id, std::move(rp));
}

// Answers every cancel waiting for `row`'s job.
void answer_cancels(coordinator_t* self, const sync_job& row) {
  auto& st = self->state;
  auto it = st.cancels.find(row.id);
  if (it == st.cancels.end())
    return;
  auto latency = std::chrono::duration<double>(clock::now() - it->second.started).count();
  for (auto& rp : it->second.waiting) {
    if (row.status == job_status::cancelled)
      rp.deliver(row);
    else
      rp.deliver(make_error(errc::illegal_transition,
                            std::string("Cannot cancel job with status: ") +
                              to_string(row.status)));
  }
  end_cancel(self, it);
  if (st.ctx->stats && row.status == job_status::cancelled)
    st.ctx->stats->cancel_latency(latency);
}

void fail_cancels(coordinator_t* self, std::int64_t id, errc code, const std::string& msg) {
  auto& st = self->state;
  auto it = st.cancels.find(id);
  if (it == st.cancels.end())
    return;
  for (auto& rp : it->second.waiting)
    rp.deliver(make_error(code, msg));
  end_cancel(self, it);
}

// A cancel of a job id whose cancel by another user is in flight: that
// answer is not this user's to share. A stranger gets 404 at once, from a
// read that waits for no lock; the owner (behind a stranger) goes next.
void cancel_beside_another_user(coordinator_t* self, std::int64_t user_id,
                                std::int64_t job_id, caf::response_promise rp) {
  on_pool(
    self, *self->state.ctx->control,
    [user_id, job_id](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        return db::job_store(c).find_for_user(user_id, job_id).has_value();
      });
    },
    [self, user_id, job_id, rp](attempt<bool> a) mutable {
      if (!a.ok()) {
        rp.deliver(make_error(a.code, a.message));
        return;
      }
      if (!a.value) {
        rp.deliver(make_error(errc::job_not_found, "Sync job not found"));
        return;
      }
      auto& st = self->state;
      auto it = st.cancels.find(job_id);
      if (it == st.cancels.end())
        handle_cancel(self, user_id, job_id, std::move(rp));
      else if (it->second.user_id == user_id)
        it->second.waiting.push_back(std::move(rp));
      else
        it->second.after.emplace_back(user_id, std::move(rp));
    });
}

// The job's actor did not acknowledge in time (or is gone): stop it by force
// and write the cancelled state ourselves. The fence refuses its later writes.
void force_cancel(coordinator_t* self, std::int64_t id) {
  auto& st = self->state;
  if (auto owner = owner_agent(self, id)) {
    self->send(owner->first, kill_job_atom::value, id);
    log::warn("cancel forced", {{"job", std::to_string(id)}});
  }
  on_pool(
    self, *st.ctx->control,
    [id](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        auto row = jobs.force_cancelled(id);
        return row ? row : jobs.find(id);
      });
    },
    [self, id](attempt<std::optional<sync_job>> a) {
      if (!a.ok() || !a.value) {
        fail_cancels(self, id, a.ok() ? errc::internal : a.code, a.message);
        return;
      }
      publish(self, *a.value);
      answer_cancels(self, *a.value);
    });
}

void cancel_running(coordinator_t* self, const sync_job& row) {
  auto& st = self->state;
  auto owner = owner_agent(self, row.id);
  if (!owner) {
    force_cancel(self, row.id);  // no live actor we know of: write it ourselves
    return;
  }
  auto timeout = std::chrono::milliseconds(st.ctx->cfg.cancel_timeout_ms);
  auto id = row.id;
  // To the run the coordinator handed out: an older run of the same job is
  // not the one to answer for it.
  self->request<caf::message_priority::high>(owner->first, timeout, cancel_atom::value, id,
                                             owner->second.attempt)
    .then(
      [self](sync_job& final_row) {
        publish(self, final_row);
        answer_cancels(self, final_row);
      },
      [self, id](caf::error&) { force_cancel(self, id); });
}

// What a cancel found in the database: the row after its request, or the
// final row of a job that had ended before it.
struct cancel_read {
  sync_job row;
  bool ended_before = false;
};

void handle_cancel(coordinator_t* self, std::int64_t user_id, std::int64_t job_id,
                   caf::response_promise rp) {
  auto& st = self->state;
  auto existing = st.cancels.find(job_id);
  if (existing != st.cancels.end()) {
    if (existing->second.user_id == user_id)
      existing->second.waiting.push_back(rp);  // answered with the same row
    else
      cancel_beside_another_user(self, user_id, job_id, std::move(rp));
    return;
  }
  pending_cancel pc;
  pc.user_id = user_id;
  pc.waiting.push_back(rp);
  pc.started = clock::now();
  st.cancels[job_id] = std::move(pc);
  on_pool(
    self, *st.ctx->control,
    [user_id, job_id](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        // 1. The request is persisted first (one statement when allowed).
        auto requested = jobs.request_cancel(job_id, user_id);
        if (!requested) {
          auto job = jobs.find_for_user(user_id, job_id);
          if (!job)
            throw domain_error(errc::job_not_found, "Sync job not found");
          // Ended already: refused below, with the final row.
          if (!can_cancel(job->status) && is_terminal(job->status))
            return cancel_read{*job, true};
          throw domain_error(errc::internal, "cancel request was not recorded");
        }
        // 2. A pending job becomes cancelled at once.
        if (requested->status == job_status::pending) {
          if (auto row = jobs.cancel_pending(job_id))
            return cancel_read{*row, false};
          requested = jobs.find(job_id);  // it started meanwhile
        }
        return cancel_read{*requested, false};
      });
    },
    [self, job_id](attempt<cancel_read> a) {
      auto& st = self->state;
      if (!a.ok()) {
        fail_cancels(self, job_id, a.code, a.message);
        return;
      }
      if (st.queued.erase(job_id) > 0)
        st.queue.erase(std::find(st.queue.begin(), st.queue.end(), job_id));
      auto& row = a.value.row;
      if (a.value.ended_before) {
        // Its final change may still be on its way here: after the
        // refusal, /sync/status must agree with it already.
        st.bus->note(row);
        fail_cancels(self, job_id, errc::illegal_transition,
                     std::string("Cannot cancel job with status: ") + to_string(row.status));
        return;
      }
      if (row.status == job_status::running) {
        cancel_running(self, row);
        return;
      }
      if (row.status == job_status::cancelled)
        publish(self, row);
      answer_cancels(self, row);
    });
}

// What a trigger found: the new job, or the user's scheduled job that gives
// way to it (job_rules.hpp: gives_way_to_user_trigger).
struct trigger_read {
  std::optional<sync_job> created;
  std::optional<sync_job> gives_way;
};

void handle_trigger(coordinator_t* self, std::int64_t user_id, std::int64_t account_id,
                    job_type type, caf::response_promise rp, bool may_displace = true) {
  on_pool(
    self, *self->state.ctx->control,
    [user_id, account_id, type, may_displace](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        try {
          return trigger_read{jobs.create(user_id, account_id, type), std::nullopt};
        } catch (const domain_error& e) {
          if (e.code() != errc::conflict || !may_displace)
            throw;
          auto active = jobs.active_for_user(user_id);
          if (!active || !gives_way_to_user_trigger(*active))
            throw;
          return trigger_read{std::nullopt, *active};
        }
      });
    },
    [self, user_id, account_id, type, rp](attempt<trigger_read> a) mutable {
      if (!a.ok()) {
        rp.deliver(make_error(a.code, a.message));
        return;
      }
      if (auto& old = a.value.gives_way) {
        // Cancelled as the user would cancel it (the schedule stays on),
        // then the trigger is made once more: a second conflict (the cancel
        // lost to the job's end, or another trigger won) is the user's 409.
        log::info("a scheduled job gives way to its user's sync",
                  {{"job", std::to_string(old->id)}, {"user", std::to_string(user_id)}});
        auto again = [self, user_id, account_id, type, rp]() mutable {
          handle_trigger(self, user_id, account_id, type, std::move(rp), false);
        };
        // As long as a user's cancel may take (runtime::cancel): a cancel
        // that outlived it would still end the job, after a 409 here.
        auto timeout = std::chrono::milliseconds(self->state.ctx->cfg.cancel_timeout_ms) +
                       std::chrono::seconds(15);
        self->request(caf::actor_cast<caf::actor>(self), timeout, cancel_atom::value, user_id,
                      old->id)
          .then([again](sync_job&) mutable { again(); },
                [again](caf::error&) mutable { again(); });
        return;
      }
      auto& job = *a.value.created;
      publish(self, job);
      enqueue(self, job.id);
      dispatch(self);
      rp.deliver(job);
    });
}

// Periodic, and at once when a node leaves: fail jobs that lost their owner
// too often, resume the others on nodes with free slots, and pick up pending
// jobs nobody queued.
void reclaim(coordinator_t* self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  std::vector<std::pair<std::string, int>> room;
  for (auto& [id, n] : st.members.nodes())
    if (n.free() > 0)
      room.emplace_back(id, n.free());
  for (auto& [id, free] : room)
    st.members.find(id)->starting += free;  // reserved while the takeover runs
  auto lease = st.ctx->cfg.job_lease_s;
  auto max_attempts = st.ctx->cfg.job_max_attempts;
  auto unowned = unowned_running(self);
  struct result {
    std::vector<sync_job> taken, failed, pending, unowned;
  };
  on_pool(
    self, *st.ctx->control,
    [room, lease, max_attempts, unowned](db::session& s) {
      return s.run([&](pqxx::connection& c) {
        db::job_store jobs(c);
        result r;
        for (auto id : unowned)
          if (auto row = jobs.find(id))
            r.unowned.push_back(*row);
        std::vector<sync_job> lost;
        r.failed = {};
        for (auto& [node, free] : room) {
          auto taken = jobs.take_over_expired(node, lease, max_attempts, &lost, free);
          r.failed.insert(r.failed.end(), lost.begin(), lost.end());
          r.taken.insert(r.taken.end(), taken.begin(), taken.end());
        }
        if (room.empty())
          jobs.take_over_expired("", lease, max_attempts, &r.failed, 0);
        r.pending = jobs.list_by_status(job_status::pending);
        return r;
      });
    },
    [self, room](attempt<result> a) {
      auto& st = self->state;
      for (auto& [node, free] : room)
        if (auto* m = st.members.find(node))
          m->starting -= free;
      if (!a.ok()) {
        log::warn("reclaim round failed", {{"error", a.message}});
        return;
      }
      for (auto& j : a.value.failed) {
        if (j.status == job_status::cancelled)
          log::info("job cancelled after losing its owner", {{"job", std::to_string(j.id)}});
        else
          log::warn("job lost its owner too often", {{"job", std::to_string(j.id)}});
        publish(self, j);
        answer_cancels(self, j);
      }
      for (auto& j : a.value.taken) {
        log::info("resuming job", {{"job", std::to_string(j.id)},
                                   {"node", j.node.value_or("")},
                                   {"attempt", std::to_string(j.attempt)}});
        publish(self, j);
        assign(self, j);
      }
      for (auto& j : a.value.pending)
        if (st.cancels.count(j.id) == 0)
          enqueue(self, j.id);
      // Counted only: a final row nobody reported is no change to publish
      // now (listeners of the bus confirm from the database on their own).
      if (st.ctx->stats)
        for (auto& j : a.value.unowned)
          st.ctx->stats->jobs().apply(j);
      dispatch(self);
    });
}

// A node is gone (its agent down: process killed, connection closed or
// timed out; or silent past the node timeout): the leases of the runs it had
// end now, counted as lost, and live nodes resume them.
void drop_node(coordinator_t* self, const std::string& node, const char* why) {
  auto& st = self->state;
  auto it = st.nodes.find(node);
  if (it == st.nodes.end())
    return;
  self->demonitor(it->second.agent);
  st.node_of_agent.erase(it->second.agent.address());
  st.nodes.erase(it);
  auto runs = st.members.remove(node);
  update_gauges(self);
  log::warn("node left", {{"node", node}, {"why", why}, {"jobs", std::to_string(runs.size())}});
  for (auto& r : runs)
    if (st.cancels.count(r.job_id) > 0 && !st.members.running(r.job_id))
      force_cancel(self, r.job_id);
  if (st.stopping)
    return;
  on_pool(
    self, *st.ctx->control,
    [node, runs](db::session& s) {
      return s.run([&](pqxx::connection& c) { return db::job_store(c).expire_leases(node, runs); });
    },
    [self](attempt<int>) { reclaim(self); });
}

void on_node_down(coordinator_t* self, const caf::down_msg& dm) {
  auto a = self->state.node_of_agent.find(dm.source);
  if (a != self->state.node_of_agent.end())
    drop_node(self, std::string(a->second), "down");
}

// Nodes silent past the node timeout (no `alive` while their connection
// looked open) are dropped; the local node never is.
void drop_silent(coordinator_t* self) {
  auto& st = self->state;
  auto timeout = std::chrono::seconds(node_timeout_s(st.ctx->cfg));
  for (auto& node : st.members.silent(clock::now(), timeout)) {
    auto it = st.nodes.find(node);
    if (it != st.nodes.end() && !it->second.info.local)
      drop_node(self, node, "silent past the node timeout");
  }
}

// Joins come only from this process: the runtime's own node agent, or the
// gatekeeper with the session of a remote node it admitted (it sets
// info.local = false). The coordinator is never published.
caf::result<caf::ok_atom> handle_join(coordinator_t* self, node_info info,
                                      const caf::actor& agent) {
  auto& st = self->state;
  auto& sender = self->current_sender();
  if (!sender || sender->node() != self->node() || !agent || agent.node() != self->node()) {
    log::warn("join refused: not from this process", {{"node", info.node}});
    return make_error(errc::invalid_input, "join refused");
  }
  bool local = info.local;
  if (info.node.empty() || st.members.find(info.node))
    return make_error(errc::conflict, "node id '" + info.node + "' is already in the cluster");
  info.local = local;
  info.connected_at = iso_at(std::chrono::system_clock::now());
  self->monitor(agent);
  st.node_of_agent[agent.address()] = info.node;
  log::info("node joined", {{"node", info.node}, {"host", info.host},
                            {"slots", std::to_string(info.slots)},
                            {"local", local ? "true" : "false"}});
  auto id = info.node;
  st.members.add(id, info.slots, clock::now());
  st.nodes[id] = node_entry{agent, std::move(info)};
  update_gauges(self);
  dispatch(self);
  return caf::ok_atom::value;
}

// Answers the lease requests whose turn is now (slots of the one cluster
// budget, as delays from now and how late a slot may still be used; or
// "ask again" at a request's deadline) and looks again when the next is due.
void serve_leases(coordinator_t* self) {
  auto& st = self->state;
  auto now = clock::now();
  for (auto& a : st.leases->due(*st.budget, now)) {
    auto p = st.lease_answers.find(a.id);
    if (p == st.lease_answers.end())
      continue;
    if (a.later)
      p->second.deliver(make_error(errc::try_later, "no slot this turn: ask again"));
    else
      p->second.deliver(std::move(a.slots.delays_ms), a.slots.grace_ms);
    st.lease_answers.erase(p);
  }
  auto next = st.leases->wake_at(*st.budget);
  if (!next || (st.lease_look_at && *st.lease_look_at <= *next))
    return;  // nothing waits, or a look comes by then
  st.lease_look_at = *next;
  // At least a millisecond: a look due now was just made.
  auto delay = std::max<clock::duration>(std::chrono::milliseconds(1), *next - now);
  self->delayed_send(self, delay, lease_tick_atom::value);
}

// A node's lease request for `who` (standing for `weight` jobs): queued, and
// answered by serve_leases, now or when its turn comes.
caf::result<std::vector<std::int64_t>, std::int64_t>
ask_lease(coordinator_t* self, std::int32_t count, upstream::job_claim who, int weight) {
  auto& st = self->state;
  auto rp = self->make_response_promise<std::vector<std::int64_t>, std::int64_t>();
  auto id = ++st.lease_ids;
  st.lease_answers.emplace(id, rp);
  st.leases->add(id, who, weight, count, clock::now());
  serve_leases(self);
  return rp;
}

caf::behavior coordinator(coordinator_t* self, std::shared_ptr<job_context> ctx,
                          std::shared_ptr<event_bus> bus,
                          std::shared_ptr<upstream::local_rate_budget> budget) {
  self->state.ctx = std::move(ctx);
  self->state.bus = std::move(bus);
  self->state.budget = std::move(budget);
  {
    // A slot is decided half an interval before it may start: the answer
    // must reach the worker first (500 ms at 60/min, 25 ms at 1,200/min,
    // plus the slot's grace), and less than an interval ahead, so that each
    // slot is decided on its own, after the node answered last has asked
    // again. A request waits at most 2 s for its turn: the worker's
    // request, and its session's to here, give up after 5 s.
    auto half = self->state.budget->interval() / 2;
    auto lookahead = std::clamp<clock::duration>(half, std::chrono::milliseconds(10),
                                                 std::chrono::seconds(1));
    self->state.leases =
      std::make_unique<upstream::lease_queue>(lookahead, std::chrono::seconds(2));
  }
  self->set_down_handler([self](caf::down_msg& dm) { on_node_down(self, dm); });
  auto period = std::chrono::milliseconds(
    std::max(200, self->state.ctx->cfg.job_lease_s * 1000 / 3));
  self->send(self, tick_atom::value);
  return {
    [=](trigger_atom, std::int64_t user_id, std::int64_t account_id,
        job_type type) -> caf::response_promise {
      auto rp = self->make_response_promise();
      handle_trigger(self, user_id, account_id, type, rp);
      return rp;
    },
    [=](cancel_atom, std::int64_t user_id, std::int64_t job_id) -> caf::response_promise {
      auto rp = self->make_response_promise();
      handle_cancel(self, user_id, job_id, rp);
      return rp;
    },
    [=](join_atom, node_info& info, const caf::actor& agent) -> caf::result<caf::ok_atom> {
      return handle_join(self, std::move(info), agent);
    },
    [=](progress_atom, sync_job& job) {
      // A run parked in a quota wait gives its slot to a job that can work
      // meanwhile (membership.hpp); it takes one again when it goes on.
      bool freed = job.status == job_status::running &&
                   self->state.members.park(job_run{job.id, job.attempt},
                                            job.resume_at.has_value());
      publish(self, job);
      if (freed)
        dispatch(self);
    },
    [=](scheduled_atom, sync_job& job) {
      // Created by the scheduler (in this process): told and queued like a
      // user's trigger.
      publish(self, job);
      enqueue(self, job.id);
      dispatch(self);
    },
    [=](job_wait_atom, std::int64_t user, std::int64_t job, std::string& reason,
        std::int64_t wait_ms, std::int32_t waits) {
      self->state.bus->publish_wait(job_wait{user, job, std::move(reason), wait_ms, waits});
    },
    [=](finished_atom, sync_job& job) {
      publish(self, job);
      if (is_terminal(job.status))
        answer_cancels(self, job);
      else if (self->state.cancels.count(job.id) > 0)
        force_cancel(self, job.id);  // the actor gave up without a final write
    },
    [=](released_atom, std::int64_t id, std::int32_t attempt) {
      self->state.members.release(job_run{id, attempt});
      dispatch(self);
    },
    [=](alive_atom) -> caf::result<caf::ok_atom> {
      // Only a joined node's agent is known here; a dropped one is told so
      // and joins again.
      auto& st = self->state;
      auto a = st.node_of_agent.find(caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (a == st.node_of_agent.end() || !st.members.touch(a->second, clock::now()))
        return make_error(errc::conflict, "not in the cluster: join again");
      return caf::ok_atom::value;
    },
    [=](caf::get_atom, workers_atom) {
      std::vector<node_info> out;
      auto& st = self->state;
      auto steady_now = clock::now();
      auto wall_now = std::chrono::system_clock::now();
      for (auto& [id, n] : st.nodes) {
        auto info = n.info;
        info.running_jobs = st.members.job_ids(id);
        if (auto* m = st.members.find(id))
          info.last_seen = iso_at(wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                               steady_now - m->last_seen));
        out.push_back(std::move(info));
      }
      return out;
    },
    [=](budget_atom, std::int32_t count) {
      // An older node asks as a whole: the other nodes compete as one,
      // standing for the jobs they run, so this node's waiting jobs get
      // their fair turns between the lent slots.
      int remote_jobs = 0;
      for (auto& [id, n] : self->state.nodes)
        if (!n.info.local)
          remote_jobs += static_cast<int>(self->state.members.job_ids(id).size());
      return ask_lease(self, count, upstream::job_claim(upstream::local_rate_budget::lender),
                       std::max(1, remote_jobs));
    },
    [=](budget_atom, std::int32_t count, std::int64_t job, bool small) {
      // For one job of a node (its session checked it is the node's, and
      // took `small` from its own record): that job's claim, counted as
      // the job's own, against this node's waiting jobs.
      return ask_lease(self, count, upstream::job_claim(static_cast<std::uint64_t>(job), small), 1);
    },
    [=](hold_atom, const std::string& node) {
      // A worker's job heard the upstream's minute is spent: the whole
      // cluster's budget holds, as for a job of this process.
      self->state.budget->hold_until_next_minute();
      log::info("upstream minute spent: the cluster holds until the next clock minute",
                {{"node", node}});
    },
    [=](continuation& c) { c.fn(); },
    [=](dispatch_atom) { dispatch(self); },
    [=](lease_tick_atom) {
      auto& st = self->state;
      if (st.lease_look_at && clock::now() >= *st.lease_look_at)
        st.lease_look_at.reset();
      serve_leases(self);
    },
    [=](tick_atom) {
      drop_silent(self);
      reclaim(self);
      self->delayed_send(self, period, tick_atom::value);
    },
    [=](shutdown_atom) {
      self->state.stopping = true;
      self->quit();
    },
  };
}

}  // namespace

caf::actor spawn_coordinator(caf::actor_system& sys, std::shared_ptr<job_context> ctx,
                             std::shared_ptr<event_bus> bus,
                             std::shared_ptr<upstream::local_rate_budget> budget) {
  return sys.spawn(coordinator, std::move(ctx), std::move(bus), std::move(budget));
}

}  // namespace matchsync
