import Testing

@testable import LogBridgeSpool

/// The arithmetic behind `sinks.NAME.backlog`: how many bytes and how old a sink's backlog is,
/// and how far a `skip_oldest` sink must move to get back under its limit.
@Suite struct BacklogIndexTests {
    /// `batches` batches of `perBatch` records of `size` bytes, one every `everyMs`.
    func index(batches: Int, perBatch: Int = 10, size: UInt64 = 1000, everyMs: Int64 = 100) -> BacklogIndex {
        var index = BacklogIndex()
        for batch in 0..<batches {
            _ = index.note(sequence: UInt64(batch * perBatch), bytes: UInt64(perBatch) * size, nowMs: Int64(batch) * everyMs)
        }
        return index
    }

    @Test func marksAreNotedPerSecondOrSpanOfBytesAndBytesAreExactForEvenRecords() {
        let index = index(batches: 100)
        // 10 KB per 100 ms: the second elapses before 256 KiB does, so one mark per 10 batches.
        #expect(index.marks.map(\.sequence) == stride(from: 0, to: 1000, by: 100).map { UInt64($0) })
        #expect(index.marks.map(\.spooledAtMs) == stride(from: 0, to: 10_000, by: 1000).map { Int64($0) })
        #expect(index.totalBytes == 1_000_000)
        for sequence: UInt64 in [0, 1, 99, 100, 450, 999] {
            #expect(index.bytesBefore(sequence, next: 1000) == sequence * 1000)
        }
        #expect(index.backlogBytes(from: 500, next: 1000) == 500_000)
        #expect(index.backlogBytes(from: 1000, next: 1000) == 0)
        // Big records fill a 256 KiB span before the second is over.
        let big = self.index(batches: 10, perBatch: 1, size: 100_000, everyMs: 1)
        #expect(big.marks.map(\.sequence) == [0, 3, 6, 9])
    }

    @Test func aByteLimitSkipsToTheFirstRecordFromWhichTheBacklogFits() {
        let index = index(batches: 100)
        let limit = SinkBacklogLimit(maxBytes: 200_000, whenFull: .skipOldest)
        let target = index.skipTarget(cursor: 0, next: 1000, limit: limit, nowMs: 10_000)
        #expect(target?.sequence == 800)
        #expect(target?.reason == .maxBytes)
        // Already under the limit, or blocking: nothing moves.
        #expect(index.skipTarget(cursor: 800, next: 1000, limit: limit, nowMs: 10_000) == nil)
        #expect(index.skipTarget(cursor: 0, next: 1000, limit: SinkBacklogLimit(maxBytes: 200_000), nowMs: 10_000) == nil)
        #expect(index.skipTarget(cursor: 1000, next: 1000, limit: limit, nowMs: 10_000) == nil)
        // A limit one byte short moves one record further.
        #expect(index.skipTarget(cursor: 0, next: 1000, limit: SinkBacklogLimit(maxBytes: 199_999, whenFull: .skipOldest), nowMs: 0)?.sequence == 801)
    }

    @Test func unevenRecordsStillSkipOnlyAsFarAsNeeded() {
        var index = BacklogIndex()
        var sequence: UInt64 = 0
        for batch in 0..<300 {
            // Sizes from 100 bytes to ~20 KB per record, 1..7 records per batch.
            let count = UInt64(batch % 7 + 1)
            _ = index.note(sequence: sequence, bytes: count * UInt64(100 + (batch * 7919) % 20_000), nowMs: Int64(batch) * 37)
            sequence += count
        }
        let next = sequence
        for maxBytes in stride(from: 10_000, to: Int(index.totalBytes), by: 77_777) {
            let limit = SinkBacklogLimit(maxBytes: maxBytes, whenFull: .skipOldest)
            guard let target = index.skipTarget(cursor: 0, next: next, limit: limit, nowMs: 0)?.sequence else {
                #expect(index.backlogBytes(from: 0, next: next) <= UInt64(maxBytes))
                continue
            }
            #expect(index.backlogBytes(from: target, next: next) <= UInt64(maxBytes), "under the limit after the skip")
            #expect(index.backlogBytes(from: target - 1, next: next) > UInt64(maxBytes), "one record less would not do")
        }
    }

    @Test func anAgeLimitSkipsTheSpansSpooledBeforeTheCutoff() {
        let index = index(batches: 100)
        let limit = SinkBacklogLimit(maxAge: .seconds(3), whenFull: .skipOldest)
        #expect(index.spooledAtMs(250, next: 1000) == 2000)
        #expect(index.spooledAtMs(1000, next: 1000) == nil)
        // Now 9.95 s: records spooled before 6.95 s are too old; the span from 7 s is the first kept.
        let target = index.skipTarget(cursor: 0, next: 1000, limit: limit, nowMs: 9_950)
        #expect(target?.sequence == 700)
        #expect(target?.reason == .maxAge)
        #expect(index.skipTarget(cursor: 700, next: 1000, limit: limit, nowMs: 9_950) == nil)
        // Both limits: the one that moves further wins.
        let both = SinkBacklogLimit(maxBytes: 100_000, maxAge: .seconds(3), whenFull: .skipOldest)
        #expect(index.skipTarget(cursor: 0, next: 1000, limit: both, nowMs: 9_950)?.sequence == 900)
    }

    @Test func trimmingKeepsTheMarkThatCoversTheOldestRecordAndAFailedTransactionRollsBack() {
        var index = index(batches: 100)
        #expect(index.dropMarks(before: 450) == 400)
        #expect(index.marks.first?.sequence == 400)
        #expect(index.bytesBefore(450, next: 1000) == 450_000)
        #expect(index.dropMarks(before: 450) == nil, "nothing more to drop")
        let (count, total) = (index.marks.count, index.totalBytes)
        _ = index.note(sequence: 1000, bytes: 5000, nowMs: 20_000)
        #expect(index.marks.count == count + 1)
        index.rollBack(markCount: count, totalBytes: total)
        #expect(index.marks.count == count)
        #expect(index.totalBytes == total)
        // The wall clock stepping back never makes times go backwards.
        _ = index.note(sequence: 1000, bytes: 300_000, nowMs: 1)
        #expect(index.note(sequence: 1001, bytes: 10, nowMs: 1) == BacklogMark(sequence: 1001, bytesBefore: 1_300_000, spooledAtMs: 9000))
    }
}
