#include "upstream/time_source.hpp"

#include "upstream/cancel_token.hpp"

namespace matchsync::upstream {

namespace {

class steady_source final : public time_source {
public:
  clock::time_point now() override { return clock::now(); }

  std::chrono::system_clock::duration wall_at(clock::time_point t) override {
    // Read fresh each time: the wall clock may be stepped (NTP) while the
    // steady one runs on.
    auto wall = std::chrono::system_clock::now().time_since_epoch();
    return wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - clock::now());
  }

  bool sleep_until(clock::time_point deadline, cancel_token& token) override {
    return token.wait_until(deadline);
  }
};

}  // namespace

time_source& steady_time_source() {
  static steady_source source;
  return source;
}

}  // namespace matchsync::upstream
