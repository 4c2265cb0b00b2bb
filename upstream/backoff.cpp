#include "upstream/backoff.hpp"

#include <algorithm>
#include <cctype>

namespace matchsync::upstream {

namespace {
constexpr std::chrono::seconds max_retry_after{24 * 60 * 60};
}  // namespace

std::chrono::milliseconds backoff_nominal(int attempt,
                                          const backoff_policy& policy) {
  auto delay = policy.base;
  // Doubling stops at the cap, which also keeps the shift from overflowing.
  for (int i = 1; i < attempt && delay < policy.cap; ++i)
    delay *= 2;
  return std::min(delay, policy.cap);
}

std::chrono::milliseconds backoff_delay(int attempt, double jitter,
                                        const backoff_policy& policy) {
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto nominal = backoff_nominal(attempt, policy);
  auto spread = static_cast<std::chrono::milliseconds::rep>(jitter * nominal.count() / 2.0);
  return std::min(nominal + std::chrono::milliseconds(spread), policy.cap);
}

std::optional<std::chrono::seconds>
parse_retry_after(const std::string& value) {
  auto begin = value.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return std::nullopt;
  auto end = value.find_last_not_of(" \t");
  long long seconds = 0;
  for (auto i = begin; i <= end; ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (!std::isdigit(c))
      return std::nullopt;
    seconds = std::min<long long>(seconds * 10 + (c - '0'),
                                  max_retry_after.count());
  }
  return std::chrono::seconds(seconds);
}

}  // namespace matchsync::upstream
