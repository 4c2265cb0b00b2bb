#include "persistence/database.hpp"

#include "persistence/connection_string.hpp"

namespace matchsync::db {

std::unique_ptr<pqxx::connection> connect(const std::string& url,
                                          const std::string& application_name) {
  return translate_errors([&] {
    // libpq waits forever for an unreachable host unless told otherwise.
    auto conn = std::make_unique<pqxx::connection>(bounded_connection_string(url));
    // A SET rather than the connection string: it works for URLs too.
    if (!application_name.empty())
      conn->set_variable("application_name", conn->quote(application_name));
    return conn;
  });
}

pqxx::connection& session::conn() {
  if (conn_ && !conn_->is_open())
    conn_.reset();
  if (!conn_)
    conn_ = connect(url_, application_name_);
  return *conn_;
}

}  // namespace matchsync::db
