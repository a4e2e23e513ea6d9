@testable import LogBridgeKafka
import Testing

/// The source's record arena: bytes copied out of librdkafka's messages stay where they were put,
/// whatever their sizes, the memory held follows the bytes a batch holds (not the largest batch so
/// far), and released chunks are reused up to the pool's bound.
struct RecordArenaTests {
    /// A record of `length` bytes that differs from its neighbours at every position.
    static func record(_ index: Int, length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0 &* 7) }
    }

    @Test func recordsOfEverySizeKeepTheirBytesAcrossChunks() {
        var arena = RecordArena()
        // Sizes around the chunk's end and the own-allocation threshold, and an empty record.
        var lengths = [0, 1, RecordArena.ownAllocationBytes, RecordArena.ownAllocationBytes + 1, RecordArena.chunkBytes + 5]
        lengths += (0..<6_000).map { ($0 &* 2_654_435_761) % 3_000 }
        var copies: [(UnsafeRawBufferPointer, [UInt8])] = []
        for (index, length) in lengths.enumerated() {
            let bytes = Self.record(index, length: length)
            copies.append((bytes.withUnsafeBytes { arena.append($0) }, bytes))
        }
        #expect(arena.count == lengths.reduce(0, +))
        for (index, (copy, bytes)) in copies.enumerated() {
            #expect(Array(copy) == bytes, "record \(index) of \(bytes.count) bytes")
        }
        let memory = arena.take()
        #expect(arena.count == 0)
        // Chunks hold the small records; only the two past the threshold have their own allocation.
        #expect(memory.own.count == 2)
        let small = lengths.filter { $0 <= RecordArena.ownAllocationBytes }.reduce(0, +)
        let bound = small / (RecordArena.chunkBytes - RecordArena.ownAllocationBytes) + 1
        #expect(memory.chunks.count <= bound, "\(memory.chunks.count) chunks for \(small) bytes")
        memory.release()
    }

    @Test func aSmallBatchHoldsOneChunkAfterALargeOne() {
        let pool = RecordChunkPool()
        var arena = RecordArena(pool: pool)
        let record = Self.record(1, length: 320)
        for _ in 0..<13_000 { _ = record.withUnsafeBytes { arena.append($0) } }
        let large = arena.take()
        #expect(large.chunks.count == 16)  // 4 MiB of records: no more than they need
        large.release()
        // The next batch is small and takes one chunk, not the size of the largest batch so far.
        for _ in 0..<10 { _ = record.withUnsafeBytes { arena.append($0) } }
        let small = arena.take()
        #expect(small.chunks.count == 1)
        #expect(small.own.isEmpty)
        small.release()
    }

    @Test func releasedChunksAreReusedUpToThePoolsBound() {
        let pool = RecordChunkPool(limit: 3)
        var arena = RecordArena(pool: pool)
        let record = Self.record(2, length: 60_000)
        for _ in 0..<20 { _ = record.withUnsafeBytes { arena.append($0) } }  // four per chunk: 5 chunks
        let first = arena.take()
        #expect(first.chunks.count == 5)
        first.release()
        #expect(pool.count == 3, "two chunks past the bound went back to the allocator")
        // A new batch takes the pooled chunks before it allocates.
        for _ in 0..<12 { _ = record.withUnsafeBytes { arena.append($0) } }
        let second = arena.take()
        #expect(pool.count == 0)
        #expect(Set(second.chunks.map(\.baseAddress)).isSubset(of: Set(first.chunks.map(\.baseAddress))))
        second.release()
        #expect(pool.count == 3)
    }
}
