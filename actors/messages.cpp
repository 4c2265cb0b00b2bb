#include "actors/messages.hpp"

#include <algorithm>

#include <caf/io/all.hpp>

namespace matchsync {

caf::error make_error(errc code, std::string message) {
  return caf::error(static_cast<std::uint8_t>(code), error_category,
                    caf::make_message(std::move(message)));
}

errc code_of(const caf::error& e) {
  if (!e)
    return errc::none;
  if (e.category() == error_category)
    return static_cast<errc>(e.code());
  if (e == caf::sec::request_timeout)
    return errc::timeout;
  return errc::internal;
}

std::string message_of(const caf::error& e) {
  if (e.category() == error_category && e.context().match_elements<std::string>())
    return e.context().get_as<std::string>(0);
  return caf::to_string(e);
}

void register_messages(caf::actor_system_config& cfg) {
  cfg.add_message_type<sync_job>("sync_job");
  cfg.add_message_type<std::vector<sync_job>>("std::vector<sync_job>");
  cfg.add_message_type<node_info>("node_info");
  cfg.add_message_type<std::vector<node_info>>("std::vector<node_info>");
  cfg.add_message_type<std::vector<std::int64_t>>("std::vector<int64_t>");
  cfg.add_message_type<job_type>("job_type");
  cfg.add_message_type<job_trigger>("job_trigger");
  cfg.add_error_category(error_category, [](std::uint8_t code, caf::atom_value,
                                            const caf::message& context) {
    std::string out = std::string("matchsync:") + to_string(static_cast<errc>(code));
    if (context.match_elements<std::string>())
      out += ": " + context.get_as<std::string>(0);
    return out;
  });
}

void configure_liveness(caf::actor_system_config& cfg, std::chrono::milliseconds node_timeout) {
  auto beat = std::max(std::chrono::milliseconds(50), node_timeout / 4);
  cfg.set("middleman.heartbeat-interval", caf::timespan{beat});
  cfg.set("middleman.connection-timeout", caf::timespan{node_timeout});
}

caf::actor_system_config& actor_config() {
  static caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    register_messages(c);
    c.load<caf::io::middleman>();
    return c;
  }();
  return cfg;
}

}  // namespace matchsync
