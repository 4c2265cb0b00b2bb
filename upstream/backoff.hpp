// The retry schedule of SPEC §2 as pure functions: no clock, no random
// generator inside; the caller passes the jitter in.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace matchsync::upstream {

/// Shape of the exponential backoff. The defaults are SPEC §2's; tests
/// shrink `base` to keep retry-heavy cases fast.
struct backoff_policy {
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{60000};
};

/// The nominal delay before retry number `attempt` (1 = the first retry):
/// `base * 2^(attempt-1)`, capped at `policy.cap`. Attempts below 1 count
/// as 1.
std::chrono::milliseconds backoff_nominal(int attempt,
                                          const backoff_policy& policy = {});

/// The jittered delay before retry number `attempt`, for a `jitter` in
/// [0, 1) (values outside are clamped): uniformly spread over
/// [nominal, 1.5 * nominal), capped at `policy.cap`. Clients that failed
/// together retry apart, and none comes back sooner than SPEC §2's
/// schedule (1 s, 2 s, 4 s...) or waits longer than the cap.
std::chrono::milliseconds backoff_delay(int attempt, double jitter,
                                        const backoff_policy& policy = {});

/// Parses a `Retry-After` header value in delta-seconds (RFC 9110 §10.2.3),
/// surrounding whitespace allowed. Returns nullopt for an empty value, a
/// negative or fractional number, garbage, or an HTTP-date (OpenDota sends
/// seconds; a date falls back to the backoff). Values above one day are
/// clamped to one day: a job waiting longer is better failed and retried.
std::optional<std::chrono::seconds> parse_retry_after(const std::string& value);

}  // namespace matchsync::upstream
