// Databases for *_pgtest suites: each test gets a fresh database in the
// throwaway cluster that the pg_cluster ctest fixture started.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace matchsync::test {

/// The cluster's admin connection string (read from MATCHSYNC_TEST_PG_URL_FILE).
std::string cluster_url();

/// Drops and creates database `name`, applies the first `migrations`
/// migrations (all when nullopt) and returns its connection string.
std::string fresh_database(const std::string& name,
                           std::optional<std::size_t> migrations = std::nullopt);

/// The cluster's data directory and port, to stop and start it in tests.
std::string cluster_dir();

}  // namespace matchsync::test
