// How the cluster's front actors (gatekeeper, node sessions) refuse what a
// peer may not send: one log line per refused message, naming the message
// by its kind only (never its content: a join carries a proof), and an
// error back to the sender.
#pragma once

#include <string>

#include <caf/all.hpp>

namespace matchsync {

/// The kind of a message: its leading atom ("trigger", "budget"...) or,
/// without one, the number of its elements.
std::string message_kind(const caf::type_erased_tuple& content);

/// The CAF node a message came from, rendered; "anonymous" without a sender.
std::string sender_node(caf::scheduled_actor* self);

/// Logs one refusal line: where (gatekeeper / session), what, why, from whom.
void log_refusal(const char* where, const std::string& what, const std::string& why,
                 const std::string& from, const std::string& node = "");

/// The answer to a refused message: an error to a request; nothing to an
/// asynchronous message (an error sent back unasked would end the sender's
/// actor, and a refusal must not hurt a sender by accident either).
caf::result<void> refusal_answer(caf::scheduled_actor* self);

/// A default handler for the front actors: refuses and logs every message
/// their behaviour does not know (`node`: the joined node a session is for).
caf::scheduled_actor::default_handler refuse_unknown(const char* where,
                                                     std::string node = "");

}  // namespace matchsync
