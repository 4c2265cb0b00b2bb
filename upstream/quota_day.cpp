#include "upstream/quota_day.hpp"

#include <cstdio>

namespace matchsync::upstream {

namespace {
constexpr std::int64_t day_minutes = 1440;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  auto q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
}  // namespace

std::int64_t quota_day_of(std::chrono::system_clock::duration wall, int day_start_minute) {
  auto minutes = std::chrono::floor<std::chrono::minutes>(wall).count();
  return floor_div(minutes - day_start_minute, day_minutes);
}

std::chrono::system_clock::duration quota_day_start(std::int64_t day, int day_start_minute) {
  return std::chrono::minutes(day * day_minutes + day_start_minute);
}

std::chrono::system_clock::duration next_quota_day(std::chrono::system_clock::duration wall,
                                                   int day_start_minute) {
  return quota_day_start(quota_day_of(wall, day_start_minute) + 1, day_start_minute);
}

std::string quota_day_date(std::int64_t day) {
  // Civil date from days since the epoch (H. Hinnant's algorithm).
  auto z = day + 719468;
  auto era = floor_div(z, 146097);
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto y = yoe + era * 400;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto d = doy - (153 * mp + 2) / 5 + 1;
  auto m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    ++y;
  char out[64];
  std::snprintf(out, sizeof out, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return out;
}

}  // namespace matchsync::upstream
