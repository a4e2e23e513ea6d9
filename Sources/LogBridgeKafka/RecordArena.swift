import Synchronization

/// Where one batch's record bytes are copied out of librdkafka's messages: fixed-size chunks that
/// never move, so a record's bytes can be pointed at as soon as they are copied.
///
/// Why chunks: the arena was one growing buffer that started each batch at the largest size any
/// batch had needed (4 MiB, ``KafkaSourceConfiguration/batchMaxBytes``), so it never copied while
/// growing. But batches fill to ~0.6 MB on average (a poll returns what has been fetched), and
/// with the spool writer's queue and open transaction there are ~40 batches in flight during a
/// backlog: 40 buffers of 4 MiB from glibc, which keeps their pages once touched. That was the
/// largest share of the process's anonymous memory (docs/cpu-profile.md, "Memory"). Chunks hold
/// what the batch holds, plus at most one partly filled chunk, and they are reused warm through
/// ``RecordChunkPool``.
struct RecordArena {
    /// Bytes per chunk. A record smaller than ``ownAllocationBytes`` always goes into a chunk.
    static let chunkBytes = 256 << 10
    /// Records (key, value or headers) longer than this get an allocation of their own, so a chunk
    /// wastes at most this much at its end when the next record does not fit.
    static let ownAllocationBytes = 64 << 10

    let pool: RecordChunkPool
    /// The chunks this batch has filled, the last one being filled now.
    private var chunks: [UnsafeMutableRawBufferPointer] = []
    /// Allocations of records past ``ownAllocationBytes``; freed with the batch, not pooled.
    private var own: [UnsafeMutableRawBufferPointer] = []
    /// Bytes used in the last chunk.
    private var used = 0
    /// Bytes appended since the batch began (what ``KafkaSourceConfiguration/batchMaxBytes`` bounds).
    private(set) var count = 0

    init(pool: RecordChunkPool = RecordChunkPool()) {
        self.pool = pool
    }

    /// Copies `bytes` into the batch; the result stays valid until the batch's memory is released.
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        count += bytes.count
        if bytes.count > Self.ownAllocationBytes {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
            copy.copyMemory(from: bytes)
            own.append(copy)
            return UnsafeRawBufferPointer(copy)
        }
        if chunks.isEmpty || used + bytes.count > Self.chunkBytes {
            chunks.append(pool.take())
            used = 0
        }
        let target = UnsafeMutableRawBufferPointer(rebasing: chunks[chunks.count - 1][used..<(used + bytes.count)])
        if bytes.count > 0 { target.copyMemory(from: bytes) }
        used += bytes.count
        return UnsafeRawBufferPointer(target)
    }

    /// Hands this batch's memory over (to be released once the batch is spooled) and starts anew.
    mutating func take() -> RecordArenaMemory {
        defer {
            chunks = []
            own = []
            used = 0
            count = 0
        }
        return RecordArenaMemory(pool: pool, chunks: chunks, own: own)
    }
}

/// One batch's chunks and own allocations, crossing to the spool writer's thread and back;
/// owned by exactly one holder at a time, and released exactly once.
struct RecordArenaMemory: @unchecked Sendable {
    let pool: RecordChunkPool
    let chunks: [UnsafeMutableRawBufferPointer]
    let own: [UnsafeMutableRawBufferPointer]

    func release() {
        pool.recycle(chunks)
        for allocation in own { allocation.deallocate() }
    }
}

/// Chunks handed back once their batch is spooled, for the next batches to fill.
///
/// Why: reused chunks keep their pages mapped, where fresh ones would be faulted in and zeroed by
/// the kernel (a fifth of the CPU once, `clear_page_erms` under `do_anonymous_page`). The pool is
/// bounded (`limit` chunks, 16 MiB by default), so an idle source keeps at most that much; chunks
/// past it go back to the allocator.
final class RecordChunkPool: Sendable {
    private struct Chunk: @unchecked Sendable {
        let bytes: UnsafeMutableRawBufferPointer
    }

    private let free = Mutex<[Chunk]>([])
    let limit: Int

    init(limit: Int = 64) { self.limit = limit }

    /// Chunks waiting to be reused.
    var count: Int { free.withLock { $0.count } }

    /// A chunk of ``RecordArena/chunkBytes`` bytes: a pooled one if any is free.
    func take() -> UnsafeMutableRawBufferPointer {
        if let chunk = free.withLock({ $0.popLast() }) { return chunk.bytes }
        return .allocate(byteCount: RecordArena.chunkBytes, alignment: 16)
    }

    func recycle(_ chunks: [UnsafeMutableRawBufferPointer]) {
        guard !chunks.isEmpty else { return }
        let kept = free.withLock { free -> Int in
            let kept = max(0, min(chunks.count, limit - free.count))
            for chunk in chunks.prefix(kept) { free.append(Chunk(bytes: chunk)) }
            return kept
        }
        for chunk in chunks.dropFirst(kept) { chunk.deallocate() }
    }

    deinit {
        free.withLock { free in
            for chunk in free { chunk.bytes.deallocate() }
        }
    }
}
