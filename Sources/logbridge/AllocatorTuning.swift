#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// Fixes glibc's thresholds for large allocations near what its own adaptation used to reach in
/// this process: buffers up to 8 MiB come from the heap and are reused warm, and up to 16 MiB of
/// free memory at the top of a heap is kept instead of handed back at once.
///
/// Why: glibc serves an allocation past `M_MMAP_THRESHOLD` with a fresh `mmap` (pages faulted in
/// and zeroed by the kernel, unmapped at `free`), and raises the threshold to the size of the
/// largest such block freed so far. The source's batches used to be 4 MiB buffers, which raised it
/// as a side effect; since they are 256 KiB chunks (`RecordArena`) it stayed at 256 KiB, and the
/// sinks' multi-megabyte request bodies and the read-out's batches were mapped anew per batch: with
/// redaction, Swift's pool faulted in 176,000 pages per 1M records instead of 19,000 and used 38%
/// more CPU. 4 MiB was too low for the file sink's 4.25 MiB batches (+35% on its thread).
/// Measured in docs/cpu-profile.md ("Memory").
///
/// A threshold set in the environment still wins (`MALLOC_MMAP_THRESHOLD_`,
/// `MALLOC_TRIM_THRESHOLD_`, or `glibc.malloc.mmap_threshold`/`trim_threshold` in
/// `GLIBC_TUNABLES`), for an operator who wants memory back sooner at some CPU, or runs batches
/// past 8 MiB.
func tuneAllocator() {
    #if canImport(Glibc)
    let tunables = getenv("GLIBC_TUNABLES").map { String(cString: $0) } ?? ""
    if getenv("MALLOC_MMAP_THRESHOLD_") == nil && !tunables.contains("glibc.malloc.mmap_threshold") {
        _ = mallopt(M_MMAP_THRESHOLD, 8 << 20)
    }
    if getenv("MALLOC_TRIM_THRESHOLD_") == nil && !tunables.contains("glibc.malloc.trim_threshold") {
        _ = mallopt(M_TRIM_THRESHOLD, 16 << 20)
    }
    #endif
}
