// How the process's heap hands memory back to the system (serve, worker).
#pragma once

namespace matchsync::app {

/// Fixes glibc's mmap threshold at its default, 128 KB. Left dynamic, glibc
/// raises it to the size of the largest block freed (up to 32 MB) and its
/// trim threshold to twice that: after one step's SQL of a few MB, every
/// real-size detail (14-250 KB) and every batch came from the arenas, whose
/// free memory stayed resident. Measured with bench_memory (a full sync of
/// 1,000 real-size matches): serve's peak RSS 73-76 MB dynamic, 38 MB fixed,
/// at the same matches/s. Fixed, a block of 128 KB or more is mapped on its
/// own and unmapped when freed.
void bound_heap_retention();

}  // namespace matchsync::app
