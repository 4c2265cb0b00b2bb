#include "actors/uplink.hpp"

#include "actors/messages.hpp"

namespace matchsync {

namespace {

caf::behavior forwarding(caf::event_based_actor* self, const caf::actor& session,
                         const std::string& token) {
  return {
    [=](progress_atom a, sync_job& job) { self->send(session, token, a, std::move(job)); },
    [=](finished_atom a, sync_job& job) { self->send(session, token, a, std::move(job)); },
    [=](released_atom a, std::int64_t id, std::int32_t attempt) {
      self->send(session, token, a, id, attempt);
    },
    [=](alive_atom a) { return self->delegate(session, token, a); },
    [=](job_wait_atom a, std::int64_t user, std::int64_t job, std::string& reason,
        std::int64_t wait_ms, std::int32_t waits) {
      self->send(session, token, a, user, job, std::move(reason), wait_ms, waits);
    },
    [=](hold_atom a) { self->send(session, token, a); },
    [=](budget_atom a, std::int32_t count) { return self->delegate(session, token, a, count); },
    [=](budget_atom a, std::int32_t count, std::int64_t job) {
      return self->delegate(session, token, a, count, job);
    },
  };
}

caf::behavior uplink(caf::event_based_actor* self) {
  // Before the session is known, every other message waits in the mailbox.
  self->set_default_handler(caf::skip);
  return {
    [=](join_atom, const caf::actor& session, const std::string& token) {
      auto& sender = self->current_sender();
      if (sender && sender->node() != self->node())
        return;  // only this process names the session
      self->monitor(session);
      self->set_down_handler([self](caf::down_msg& dm) { self->quit(dm.reason); });
      self->set_default_handler(caf::print_and_drop);
      self->become(forwarding(self, session, token));
    },
  };
}

// A class, not a function: CAF 0.17.6 spawns a function that takes nothing
// beyond `self` by dereferencing a null std::shared_ptr<std::tuple<>>
// (caf/detail/init_fun_factory.hpp:85), which UBSan stops at: reference
// binding to null pointer. A class-based actor skips that helper.
class uplink_actor : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;
  caf::behavior make_behavior() override { return uplink(this); }
};

}  // namespace

caf::actor spawn_uplink(caf::actor_system& sys) { return sys.spawn<uplink_actor>(); }

}  // namespace matchsync
