#include "upstream/time_source.hpp"

#include "upstream/cancel_token.hpp"

namespace matchsync::upstream {

namespace {

class steady_source final : public time_source {
public:
  clock::time_point now() override { return clock::now(); }

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
