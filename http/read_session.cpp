#include "http/read_session.hpp"

#include <memory>

namespace matchsync::http {

db::session& read_session(const std::string& url) {
  // Pool threads end with their server, closing the connection with them.
  thread_local std::unique_ptr<db::session> session;
  if (!session || session->url() != url)
    session = std::make_unique<db::session>(url);
  return *session;
}

}  // namespace matchsync::http
