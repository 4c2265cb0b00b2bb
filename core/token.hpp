// API tokens: random, shown once, stored only as a SHA-256 hash.
#pragma once

#include <cstddef>
#include <string>

namespace matchsync {

/// A new random token (256 bits, hex).
std::string generate_token();

/// Hex SHA-256 of a token: what the users table stores.
std::string hash_token(const std::string& token);

/// Lower-case hex of `len` bytes.
std::string to_hex(const unsigned char* data, std::size_t len);

/// Compares two strings in time independent of where they differ.
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace matchsync
