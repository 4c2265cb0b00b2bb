// Helpers of the security suites: a token as `matchsync user add` prints
// it, and HTTP spoken over a raw socket (requests no client library sends).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace matchsync::test {

/// Runs `matchsync user add --account-id N` on `db_url`; its token (the
/// last line of its output). REQUIREs success.
std::string user_token(const std::string& db_url, std::int64_t account,
                       const std::string& name = "");

/// A connected loopback socket, or -1.
int connect_loopback(int port);

/// Sends `bytes` as they are (what the server takes of them), then reads
/// until the server closes or `deadline` passes; "" when nothing came.
std::string send_raw(int port, const std::string& bytes,
                     std::chrono::milliseconds deadline = std::chrono::seconds(5));

/// Reads from `fd` until the server closes, `deadline` passes or what came
/// holds `until` (when not empty); leaves `fd` open.
std::string read_raw(int fd, std::chrono::milliseconds deadline, const std::string& until = "");

/// The status of a raw answer, 0 when there is none.
int status_of(const std::string& answer);

}  // namespace matchsync::test
