#include "persistence/database.hpp"

namespace matchsync::db {

std::unique_ptr<pqxx::connection> connect(const std::string& url) {
  return translate_errors([&] {
    // libpq waits forever for an unreachable host unless told otherwise.
    std::string with_timeout = url;
    if (with_timeout.find("connect_timeout") == std::string::npos &&
        with_timeout.find("://") == std::string::npos)
      with_timeout += " connect_timeout=3";
    return std::make_unique<pqxx::connection>(with_timeout);
  });
}

pqxx::connection& session::conn() {
  if (conn_ && !conn_->is_open())
    conn_.reset();
  if (!conn_)
    conn_ = connect(url_);
  return *conn_;
}

}  // namespace matchsync::db
