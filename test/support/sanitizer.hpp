#pragma once

// What a sanitizer build (scripts/sanitize.sh) changes for a test's bounds.
// Every suite runs under ASan+UBSan and under TSan too; a bound that tells
// "at once" from "queued", or "kept its memory" from "leaked", must still
// mean that there.

namespace matchsync::test {

#if defined(__SANITIZE_THREAD__)
/// How many times slower code runs here than in the plain build: TSan checks
/// every memory access (5-15x), ASan less (2-3x). Bounds on time that tell
/// a fast path from a slow one are multiplied by it.
inline constexpr int sanitizer_slowdown = 5;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr int sanitizer_slowdown = 3;
#else
inline constexpr int sanitizer_slowdown = 1;
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/// RSS measures the sanitizer's allocator (ASan's quarantine keeps freed
/// blocks, TSan's shadow memory grows with every thread and heap page), not
/// ours: memory bounds are checked by the plain run, leaks by LSan in the
/// ASan run.
inline constexpr bool rss_is_meaningful = false;
#else
inline constexpr bool rss_is_meaningful = true;
#endif

}  // namespace matchsync::test
