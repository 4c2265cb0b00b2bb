// Fuzzes the verdict on a match-detail answer from OpenDota (layout of the
// input: classify_input.hpp).
#include "fuzz/classify_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  matchsync::fuzz::check_answer(data, size,
                                matchsync::upstream::expected_shape::match_detail);
  return 0;
}
