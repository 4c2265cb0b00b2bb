// Connections to PostgreSQL and the translation of libpqxx errors into the
// domain's errors: nothing above this folder sees a pqxx exception.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <pqxx/pqxx>

#include "core/errors.hpp"

namespace matchsync::db {

/// Opens a connection; throws domain_error(storage_unavailable) when the
/// server cannot be reached. A short connect timeout keeps outages bounded.
/// `application_name`, when given, names the session in pg_stat_activity.
std::unique_ptr<pqxx::connection> connect(const std::string& url,
                                          const std::string& application_name = {});

/// Runs `fn`, translating libpqxx exceptions: a lost connection becomes
/// storage_unavailable, anything else internal (with the server's message).
template <class F>
auto translate_errors(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const domain_error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw domain_error(errc::storage_unavailable,
                       std::string("database unavailable: ") + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    throw domain_error(errc::storage_unavailable,
                       std::string("database unavailable: ") + e.what());
  } catch (const pqxx::sql_error& e) {
    // 57P01 admin_shutdown & co: the server is going away.
    auto state = e.sqlstate();
    if (state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0)
      throw domain_error(errc::storage_unavailable,
                         std::string("database unavailable: ") + e.what());
    throw domain_error(errc::internal, std::string("database error: ") + e.what());
  } catch (const pqxx::failure& e) {
    throw domain_error(errc::internal, std::string("database error: ") + e.what());
  }
}

/// One long-lived connection that reopens itself after the server was lost.
/// Not thread-safe: one per thread (a connection costs ~37 ms to open).
class session {
public:
  explicit session(std::string url, std::string application_name = {})
    : url_(std::move(url)), application_name_(std::move(application_name)) {}

  /// The open connection, (re)connecting if needed.
  pqxx::connection& conn();

  /// Runs `fn(conn)` with error translation; on a lost connection the
  /// connection is dropped so the next call reconnects.
  template <class F>
  auto run(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
    try {
      return translate_errors([&] { return fn(conn()); });
    } catch (const domain_error& e) {
      if (e.code() == errc::storage_unavailable)
        conn_.reset();
      throw;
    }
  }

  const std::string& url() const { return url_; }

private:
  std::string url_;
  std::string application_name_;
  std::unique_ptr<pqxx::connection> conn_;
};

/// Lends a connection for the length of one call: how code that must not
/// hold a connection across a slow wait (a sync step around its upstream
/// request) reaches the database, one short phase at a time.
class connection_source {
public:
  virtual ~connection_source() = default;

  /// Calls `fn` with a connection, translating libpqxx errors as
  /// translate_errors does. Throws domain_error(storage_unavailable) when
  /// no connection can be had.
  virtual void with_connection(const std::function<void(pqxx::connection&)>& fn) = 0;
};

/// The same connection lent every time: for tests and single-threaded tools.
/// Lent to one caller at a time: a daily quota shared by parallel detail
/// lanes asks from several threads, and two transactions at once on one
/// connection fail (the quota then let requests through uncounted).
class single_connection : public connection_source {
public:
  explicit single_connection(pqxx::connection& conn) : conn_(conn) {}

  void with_connection(const std::function<void(pqxx::connection&)>& fn) override {
    std::lock_guard<std::recursive_mutex> lock(mutex_);  // a lender may lend again
    translate_errors([&] { fn(conn_); });
  }

private:
  pqxx::connection& conn_;
  std::recursive_mutex mutex_;
};

}  // namespace matchsync::db
