#include "actors/node_session.hpp"

#include <optional>

#include "actors/cluster_refusal.hpp"
#include "actors/messages.hpp"
#include "actors/node_session_rules.hpp"
#include "core/log.hpp"
#include "core/token.hpp"

namespace matchsync {

namespace {

struct session_state {
  caf::actor coordinator;
  caf::actor agent;
  std::string node;
  std::string token;  // the session's capability, given to the node at its join
  std::chrono::milliseconds cancel_timeout{};
  node_session_rules rules;
};

using session_t = caf::stateful_actor<session_state>;

constexpr const char* session_where = "node_session";

bool from_coordinator(session_t* self) {
  return self->current_sender() == caf::actor_cast<caf::strong_actor_ptr>(self->state.coordinator);
}

// Why a message is not the joined node's own; nullptr when it is. The
// sender's CAF node alone does not prove it: a BASP "routed" message names
// its source node itself, so a peer that learnt the node's id and guessed
// the session's actor id could speak for it. The token, which only the node
// got (in the join's answer), does.
const char* not_from_node(session_t* self, const std::string& token) {
  auto& sender = self->current_sender();
  if (!sender || sender->node() != self->state.agent.node() || sender->node() == self->node())
    return "not from the joined node";
  if (!constant_time_equal(token, self->state.token))
    return "wrong session token";
  return nullptr;
}

// Logs a refusal; returns the error for the sender of a request.
caf::error refuse(session_t* self, const char* what, const std::string& why) {
  log_refusal(session_where, what, why, sender_node(self), self->state.node);
  return make_error(errc::invalid_input, "refused");
}

// The same for a message that needs no answer (refusal_answer).
caf::result<void> refuse_async(session_t* self, const char* what, const std::string& why) {
  log_refusal(session_where, what, why, sender_node(self), self->state.node);
  return refusal_answer(self);
}

// Why the node may not report a row or wait of `job_id`; nullopt when it may.
// With `attempt`, the node must hold that very run (a progress row).
std::optional<std::string> report_refused(session_t* self, const std::string& token,
                                          std::int64_t job_id, std::int64_t user_id,
                                          std::optional<std::int32_t> attempt = std::nullopt) {
  if (auto why = not_from_node(self, token))
    return std::string(why);
  auto why = attempt ? self->state.rules.check_run_report(job_run{job_id, *attempt}, user_id)
                     : self->state.rules.check_report(job_id, user_id);
  if (why)
    return why + std::string(" (job ") + std::to_string(job_id) +
           (attempt ? ", attempt " + std::to_string(*attempt) : std::string()) + ")";
  return std::nullopt;
}

using lease_answer = caf::result<std::vector<std::int64_t>, std::int64_t>;

// Passes a lease request the rules let through to the coordinator; the next
// may come once it is answered.
lease_answer ask_lease(session_t* self, caf::message ask) {
  auto rp = self->make_response_promise<std::vector<std::int64_t>, std::int64_t>();
  self->request(self->state.coordinator, std::chrono::seconds(5), std::move(ask))
    .then(
      [self, rp](std::vector<std::int64_t>& delays, std::int64_t grace) mutable {
        self->state.rules.budget_answered();
        rp.deliver(std::move(delays), grace);
      },
      [self, rp](caf::error& err) mutable {
        self->state.rules.budget_answered();
        rp.deliver(std::move(err));
      });
  return rp;
}

caf::behavior node_session(session_t* self, caf::actor coordinator, caf::actor agent,
                           std::string node, std::string token,
                           std::chrono::milliseconds cancel_timeout) {
  auto& st = self->state;
  st.coordinator = std::move(coordinator);
  st.agent = std::move(agent);
  st.node = std::move(node);
  st.token = std::move(token);
  st.cancel_timeout = cancel_timeout;
  self->monitor(st.agent);
  self->monitor(st.coordinator);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.agent.address() || dm.source == self->state.coordinator.address())
      self->quit(dm.reason);
  });
  self->set_default_handler(refuse_unknown(session_where, st.node));
  return {
    // Downward, from the coordinator only.
    [=](run_atom, sync_job& job) -> caf::result<void> {
      if (!from_coordinator(self))
        return refuse_async(self, "run", "not from the coordinator");
      self->state.rules.assigned(job_run{job.id, job.attempt}, job.user_id,
                                 job.type == job_type::incremental_sync);
      self->send(self->state.agent, run_atom::value, std::move(job));
      return caf::unit;
    },
    [=](cancel_atom, std::int64_t job_id, std::int32_t attempt) -> caf::result<sync_job> {
      if (!from_coordinator(self))
        return refuse(self, "cancel", "not from the coordinator");
      auto rp = self->make_response_promise<sync_job>();
      // The coordinator's own request carries the deadline; ours only
      // keeps a silent node from holding the promise for ever.
      self->request<caf::message_priority::high>(self->state.agent,
                                                 self->state.cancel_timeout * 2,
                                                 cancel_atom::value, job_id, attempt)
        .then([rp](sync_job& row) mutable { rp.deliver(std::move(row)); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](kill_job_atom, std::int64_t job_id) -> caf::result<void> {
      if (!from_coordinator(self))
        return refuse_async(self, "killjob", "not from the coordinator");
      self->send(self->state.agent, kill_job_atom::value, job_id);
      return caf::unit;
    },
    // Upward, from the node, checked against the coordinator's records.
    [=](const std::string& token, progress_atom, sync_job& job) -> caf::result<void> {
      if (auto why = report_refused(self, token, job.id, job.user_id, job.attempt))
        return refuse_async(self, "progress", *why);
      self->send(self->state.coordinator, progress_atom::value, std::move(job));
      return caf::unit;
    },
    [=](const std::string& token, finished_atom, sync_job& job) -> caf::result<void> {
      if (auto why = report_refused(self, token, job.id, job.user_id))
        return refuse_async(self, "finished", *why);
      self->send(self->state.coordinator, finished_atom::value, std::move(job));
      return caf::unit;
    },
    [=](const std::string& token, job_wait_atom, std::int64_t user, std::int64_t job,
        std::string& reason, std::int64_t wait_ms, std::int32_t waits) -> caf::result<void> {
      if (auto why = report_refused(self, token, job, user))
        return refuse_async(self, "jobwait", *why);
      self->send(self->state.coordinator, job_wait_atom::value, user, job, std::move(reason),
                 wait_ms, waits);
      return caf::unit;
    },
    [=](const std::string& token, released_atom, std::int64_t id,
        std::int32_t attempt) -> caf::result<void> {
      if (auto why = not_from_node(self, token))
        return refuse_async(self, "released", why);
      if (auto why = self->state.rules.release(job_run{id, attempt}))
        return refuse_async(self, "released",
                            why + std::string(" (job ") + std::to_string(id) + ")");
      self->send(self->state.coordinator, released_atom::value, id, attempt);
      return caf::unit;
    },
    // The node's sign of life: asked of the coordinator as this session (the
    // agent it knows the node by), so a dropped node hears it must rejoin.
    [=](const std::string& token, alive_atom) -> caf::result<caf::ok_atom> {
      if (auto why = not_from_node(self, token))
        return refuse(self, "alive", why);
      auto rp = self->make_response_promise<caf::ok_atom>();
      self->request(self->state.coordinator, self->state.cancel_timeout * 2, alive_atom::value)
        .then([rp](caf::ok_atom) mutable { rp.deliver(caf::ok_atom::value); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    // The upstream's minute is spent, as a job of the node heard: the whole
    // cluster holds (SPEC §2), once per clock minute of this clock.
    [=](const std::string& token, hold_atom) -> caf::result<void> {
      if (auto why = not_from_node(self, token))
        return refuse_async(self, "hold", why);
      auto minute = std::chrono::duration_cast<std::chrono::minutes>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
      bool forward = false;
      if (auto why = self->state.rules.hold_minute(minute, forward))
        return refuse_async(self, "hold", why);
      if (forward)
        self->send(self->state.coordinator, hold_atom::value, self->state.node);
      return caf::unit;
    },
    // A lease request as older nodes ask: for the node as a whole.
    [=](const std::string& token, budget_atom, std::int32_t count) -> lease_answer {
      if (auto why = not_from_node(self, token))
        return refuse(self, "budget", why);
      if (auto why = self->state.rules.ask_budget(count))
        return refuse(self, "budget", why);
      return ask_lease(self, caf::make_message(budget_atom::value, count));
    },
    // For one of the node's jobs: the coordinator weighs that job's claim
    // against the cluster's others (small as its own record says).
    [=](const std::string& token, budget_atom, std::int32_t count,
        std::int64_t job_id) -> lease_answer {
      if (auto why = not_from_node(self, token))
        return refuse(self, "budget", why);
      bool small = false;
      if (auto why = self->state.rules.ask_budget_for(job_id, count, small))
        return refuse(self, "budget", why);
      return ask_lease(self, caf::make_message(budget_atom::value, count, job_id, small));
    },
  };
}

}  // namespace

caf::actor spawn_node_session(caf::actor_system& sys, caf::actor coordinator,
                              caf::actor agent, std::string node, std::string token,
                              std::chrono::milliseconds cancel_timeout) {
  return sys.spawn(node_session, std::move(coordinator), std::move(agent), std::move(node),
                   std::move(token), cancel_timeout);
}

}  // namespace matchsync
