#include "actors/cluster_refusal.hpp"

#include "actors/messages.hpp"
#include "core/log.hpp"

namespace matchsync {

std::string message_kind(const caf::type_erased_tuple& content) {
  if (content.size() > 0 && content.match_element<caf::atom_value>(0))
    return caf::to_string(content.get_as<caf::atom_value>(0));
  return "message of " + std::to_string(content.size()) + " elements";
}

std::string sender_node(caf::scheduled_actor* self) {
  auto& sender = self->current_sender();
  if (!sender)
    return "anonymous";
  return caf::to_string(sender->node());
}

void log_refusal(const char* where, const std::string& what, const std::string& why,
                 const std::string& from, const std::string& node) {
  if (node.empty())
    log::warn("cluster message refused",
              {{"at", where}, {"message", what}, {"reason", why}, {"from", from}});
  else
    log::warn("cluster message refused", {{"at", where},
                                          {"message", what},
                                          {"reason", why},
                                          {"from", from},
                                          {"node", node}});
}

caf::result<void> refusal_answer(caf::scheduled_actor* self) {
  if (self->current_message_id().is_request())
    return make_error(errc::invalid_input, "refused");
  return caf::unit;
}

caf::scheduled_actor::default_handler refuse_unknown(const char* where, std::string node) {
  return [where, node](caf::scheduled_actor* self,
                       caf::message_view& x) -> caf::result<caf::message> {
    log_refusal(where, message_kind(x.content()), "not accepted here", sender_node(self), node);
    if (self->current_message_id().is_request())
      return make_error(errc::invalid_input, "refused");
    return caf::message{};
  };
}

}  // namespace matchsync
