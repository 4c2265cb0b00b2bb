// The upstream_quota table: the requests started per upstream day, shared by
// every node and kept across restarts (SPEC §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

namespace matchsync::db {

class upstream_quota_store {
public:
  /// Counts one request on `day` ("YYYY-MM-DD") unless `limit` (> 0) are
  /// counted already or the day is marked spent; one statement, so nodes
  /// racing for the last request cannot both have it. The count after it,
  /// or nullopt when refused.
  static std::optional<std::int64_t> take(pqxx::transaction_base& tx, const std::string& day,
                                          std::int64_t limit);
  /// The upstream said `day` is spent.
  static void mark_spent(pqxx::transaction_base& tx, const std::string& day);
  /// The day's count and whether it is marked spent.
  struct day_state {
    std::int64_t used = 0;
    bool spent = false;
  };
  static day_state read(pqxx::transaction_base& tx, const std::string& day);
};

}  // namespace matchsync::db
