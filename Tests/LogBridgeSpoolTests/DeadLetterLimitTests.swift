import Foundation
import LogBridgeCore
import LogBridgeMetrics
import LogBridgeTestSupport
import Logging
import Testing

@testable import LogBridgeSpool

/// The dead-letter store's bounds: a capped prefix of oversize payloads with the original size,
/// capped reasons, a byte limit that evicts the oldest letters without holding up delivery, and
/// letters written before the caps still read.
@Suite struct DeadLetterLimitTests {
    let logger = Logger(label: "dead-letter-test")

    func configuration(_ directory: TemporaryDirectory, maxRecordBytes: Int = 1 << 20, deadLetterMaxBytes: Int? = nil) -> SpoolConfiguration {
        SpoolConfiguration(
            path: directory.file("spool"), maxBytes: 64 << 20, maxRecordBytes: maxRecordBytes, deadLetterMaxBytes: deadLetterMaxBytes)
    }

    func letter(_ stage: String, offset: Int64, payload: [UInt8], reason: String = "HTTP 400: mapper_parsing_exception") -> DeadLetter {
        DeadLetter(
            stage: stage, reason: reason, status: "400", topic: "logs", partition: 0, offset: offset,
            timestampMs: 1_795_000_000_000, deadLetteredAtMs: 1_795_000_000_001, payload: payload)
    }

    @Test func aFiveMiBRecordIsDeadLetteredAsItsFirstBytesWithItsOriginalSize() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let big = (0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        do {
            let spool = try Spool(configuration: configuration(directory), sinks: ["a"], statistics: statistics, logger: logger)
            #expect(spool.offer(TestIngest.batch([
                .init(partition: 0, offset: 0, value: Array("before".utf8)),
                .init(partition: 0, offset: 1, value: big),
                .init(partition: 0, offset: 2, value: Array("after".utf8)),
            ]), timeout: .seconds(5)))
            _ = spool.finishWrites(revoking: [])
            #expect(statistics.oversize.value == 1)
            #expect(statistics.spoolDeadLettersTruncated.value == 1)
            let read = try spool.read(from: 0, maxRecords: 10, maxBytes: 1 << 20)
            #expect(read.records.map(\.offset) == [0, 2], "the records around it are spooled")
            spool.close()
        }
        // Read back after a restart, through the read-only inspector `dlq list` uses.
        let letters = try SpoolInspector(path: directory.file("spool")).deadLetters()
        #expect(letters.count == 1)
        let stored = try #require(letters.first)
        #expect(stored.payload.count == 1 << 20, "max_record_bytes of it")
        #expect(stored.payload == Array(big.prefix(1 << 20)), "the record's first bytes, in order")
        #expect(stored.originalSize == 5 << 20)
        #expect(stored.isTruncated)
        #expect(stored.offset == 1)
        #expect(stored.reason.contains("5242880 bytes"))
    }

    @Test func everyProducerIsCappedWhereLettersAreStored() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let spool = try Spool(
            configuration: configuration(directory, maxRecordBytes: 64 << 10), sinks: ["a"], statistics: statistics, logger: logger)
        defer { spool.close() }
        // A sink answering with a whole error page: megabytes of reason, multi-byte characters
        // straddling the cut, a long status.
        let reason = "HTTP 400: " + String(repeating: "é€😀", count: 120_000)
        var huge = letter("a", offset: 7, payload: Array(repeating: 0x41, count: 3 << 20), reason: reason)
        huge.status = String(repeating: "9", count: 10_000)
        try await spool.deadLetter([huge])
        // And through a sink's checkpoint, the way the HTTP sinks hand them over.
        try await spool.commit(
            sink: "a", checkpoint: SinkCheckpoint(nextSequence: 0),
            deadLetters: [letter("a", offset: 8, payload: Array(repeating: 0x42, count: 100 << 10))])
        let letters = try spool.deadLetters(limit: 10)
        #expect(letters.count == 2)
        let first = try #require(letters.first)
        #expect(first.payload.count == 64 << 10)
        #expect(first.originalSize == 3 << 20)
        #expect(first.reason.utf8.count <= DeadLetter.maxReasonBytes)
        #expect(first.reason.utf8.count > DeadLetter.maxReasonBytes - 8, "cut near the limit, not far before it")
        #expect(first.reason.hasPrefix("HTTP 400: é€😀"))
        #expect(first.reason.hasSuffix(" […]"))
        #expect(!first.reason.contains("\u{FFFD}"), "cut between characters, never inside one")
        #expect(first.status.utf8.count <= DeadLetter.maxStatusBytes)
        #expect(letters[1].payload.count == 64 << 10)
        #expect(letters[1].originalSize == 100 << 10)
        #expect(statistics.spoolDeadLettersTruncated.value == 2)
        // A short reason is kept as it is.
        #expect(DeadLetter.cut("HTTP 400: bad", to: DeadLetter.maxReasonBytes) == "HTTP 400: bad")
    }

    @Test func aFullStoreEvictsTheOldestLettersWhileRecordsKeepFlowing() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let limit = 1 << 20
        let spool = try Spool(
            configuration: configuration(directory, maxRecordBytes: 64 << 10, deadLetterMaxBytes: limit), sinks: ["a"],
            statistics: statistics, logger: logger)
        defer { spool.close() }
        #expect(statistics.spoolDeadLetterMaxBytes.value == limit)
        // A sink that refuses one record of every batch of ten, 300 batches: ~6 MiB of letters
        // against a 1 MiB store.
        var offset: Int64 = 0
        var delivered = 0
        for round in 0..<300 {
            #expect(spool.offer(TestIngest.sequential(partition: 0, from: offset, count: 10), timeout: .seconds(5)))
            _ = spool.finishWrites(revoking: [])
            let batch = try spool.read(from: spool.checkpoint(sink: "a").nextSequence, maxRecords: 100, maxBytes: 1 << 20, for: "a")
            #expect(batch.count == 10, "round \(round): the records arrive although the store is full")
            delivered += batch.count - 1
            let rejected = batch.records[0]
            try await spool.commit(
                sink: "a", checkpoint: SinkCheckpoint(nextSequence: batch.nextSequence),
                deadLetters: [letter("a", offset: rejected.offset, payload: Array(repeating: UInt8(ascii: "x"), count: 20_000))])
            offset += 10
        }
        #expect(delivered == 2_700)
        #expect(statistics.spooled.value == 3_000)
        #expect(spool.usage.records == 0, "every delivered record was trimmed")

        let usage = spool.usage
        #expect(usage.deadLetterBytes <= limit)
        #expect(statistics.spoolDeadLetterBytes.value == usage.deadLetterBytes)
        let evicted = statistics.spoolDeadLettersEvicted.value
        #expect(evicted > 200, "most of the ~6 MiB went")
        #expect(evicted + usage.deadLetters == 300, "each letter is either kept or counted as evicted")
        // The newest letters stay, in order; the oldest went.
        let kept = try spool.deadLetters(limit: 1_000)
        #expect(kept.count == usage.deadLetters)
        #expect(kept.map(\.offset) == (evicted..<300).map { Int64($0 * 10) })

        let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(exposition.contains("logbridge_spool_dead_letters_evicted_total \(evicted)"))
        #expect(exposition.contains("logbridge_spool_dead_letter_max_bytes \(limit)"))
        #expect(exposition.contains("logbridge_spool_dead_letter_bytes \(usage.deadLetterBytes)"))
    }

    @Test func aLetterLargerThanTheWholeLimitIsStillKept() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let spool = try Spool(
            configuration: configuration(directory, deadLetterMaxBytes: 64 << 10), sinks: ["a"], statistics: statistics, logger: logger)
        defer { spool.close() }
        try await spool.deadLetter([letter("a", offset: 1, payload: Array(repeating: 1, count: 200 << 10))])
        try await spool.deadLetter([letter("a", offset: 2, payload: Array(repeating: 2, count: 200 << 10))])
        #expect(try spool.deadLetters(limit: 10).map(\.offset) == [2], "the newest survives a limit smaller than itself")
        #expect(statistics.spoolDeadLettersEvicted.value == 1)
    }

    @Test func aLoweredLimitIsEnforcedSoonAfterTheSpoolOpens() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try Spool(configuration: configuration(directory), sinks: ["a"], statistics: SpoolStatistics(), logger: logger)
            try await spool.deadLetter((0..<100).map { letter("a", offset: $0, payload: Array(repeating: 7, count: 30_000)) })
            #expect(spool.usage.deadLetterBytes > 2 << 20)
            spool.close()
        }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let spool = try Spool(
            configuration: configuration(directory, deadLetterMaxBytes: 1 << 20), sinks: ["a"], statistics: statistics, logger: logger)
        defer { spool.close() }
        // No new letter arrives: the writer evicts on its own.
        await eventually(timeout: .seconds(10), interval: .milliseconds(50)) { spool.usage.deadLetterBytes <= 1 << 20 }
        #expect(spool.usage.deadLetterBytes <= 1 << 20)
        #expect(statistics.spoolDeadLettersEvicted.value > 50)
        #expect(try spool.deadLetters(limit: 1_000).last?.offset == 99)
    }

    @Test func replayLeavesTruncatedLettersInTheStore() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: configuration(directory, maxRecordBytes: 1024), sinks: ["a"], statistics: SpoolStatistics(), logger: logger)
        defer { spool.close() }
        try await spool.deadLetter([
            letter("a", offset: 1, payload: Array("whole".utf8)),
            letter("a", offset: 2, payload: Array(repeating: 0x61, count: 4096)),
        ])
        let result = try await spool.replayDeadLetters(sink: "a", sinks: ["a"])
        #expect(result == DeadLetterMaintenance(handled: 1, keptTruncated: 1))
        let replayed = try spool.read(from: 0, maxRecords: 10, maxBytes: 1 << 20, for: "a")
        #expect(replayed.records.map(\.offset) == [1], "only the whole letter is sent again")
        let left = try spool.deadLetters(limit: 10)
        #expect(left.map(\.offset) == [2])
        #expect(left.first?.isTruncated == true)
        // Purging takes truncated letters like any other.
        #expect(try await spool.purgeDeadLetters(stage: "a") == 1)
    }

    /// The store's layout before the caps, written byte by byte: version 1, four length-prefixed
    /// texts, partition, offset, timestamp, dead-lettered-at, then the payload.
    static func versionOne(stage: String, reason: String, offset: Int64, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [1]
        for text in [stage, reason, "400", "logs"] {
            out += withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian) { Array($0) }
            out += Array(text.utf8)
        }
        out += withUnsafeBytes(of: Int32(3).littleEndian) { Array($0) }
        out += withUnsafeBytes(of: offset.littleEndian) { Array($0) }
        out += withUnsafeBytes(of: Int64(1_795_000_000_000).littleEndian) { Array($0) }
        out += withUnsafeBytes(of: Int64(1_795_000_000_001).littleEndian) { Array($0) }
        return out + payload
    }

    @Test func lettersWrittenBeforeTheCapsStillListAndReplay() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("spool")
        try Spool(configuration: configuration(directory), sinks: ["a"], statistics: SpoolStatistics(), logger: logger).close()
        // An existing spool's dead letters, as the previous release stored them.
        do {
            let env = try LMDBEnvironment(directory: path, mapSize: 80 << 20, maxDatabases: SpoolDatabases.count + 2)
            try env.write { (txn) throws(SpoolError) in
                let letters = try txn.openDatabase("dead_letters", create: false)
                let meta = try txn.openDatabase("meta", create: false)
                try txn.put(letters, key: SpoolKey.sequence(0), value: Self.versionOne(stage: "a", reason: "HTTP 400: old", offset: 10, payload: Array("old one".utf8)))
                try txn.put(letters, key: SpoolKey.sequence(1), value: Self.versionOne(stage: "source", reason: "too big", offset: 11, payload: Array("xyz".utf8)))
                try txn.put(meta, key: SpoolKey.nextDeadLetter, value: SpoolKey.uint64(2))
            }
        }
        let listed = try SpoolInspector(path: path).deadLetters()
        #expect(listed.map(\.offset) == [10, 11])
        #expect(listed[0].payload == Array("old one".utf8))
        #expect(listed[0].originalSize == 7)
        #expect(!listed[0].isTruncated)
        #expect(listed[0].reason == "HTTP 400: old")
        #expect(listed[1].stage == "source")

        let spool = try Spool(configuration: configuration(directory), sinks: ["a"], statistics: SpoolStatistics(), logger: logger)
        defer { spool.close() }
        try await spool.deadLetter([letter("a", offset: 12, payload: Array("new one".utf8))])
        #expect(try spool.deadLetters(limit: 10).map(\.offset) == [10, 11, 12], "new letters go after the old ones")
        #expect(try await spool.replayDeadLetters(sink: "a", sinks: ["a"]).handled == 2)
        let replayed = try spool.read(from: 0, maxRecords: 10, maxBytes: 1 << 20, for: "a")
        #expect(replayed.records.map(\.offset) == [10, 12])
        #expect(replayed.withValue(of: replayed.records[0]) { String(decoding: $0, as: UTF8.self) } == "old one")
    }

    @Test func aWholeLetterIsStoredExactlyAsBeforeAndATruncatedOneRoundTrips() throws {
        // A whole letter keeps the old bytes, so a release without the caps still reads it.
        let whole = DeadLetter(
            stage: "a", reason: "HTTP 400: old", status: "400", topic: "logs", partition: 3, offset: 10,
            timestampMs: 1_795_000_000_000, deadLetteredAtMs: 1_795_000_000_001, payload: Array("old one".utf8))
        #expect(whole.encoded() == Self.versionOne(stage: "a", reason: "HTTP 400: old", offset: 10, payload: Array("old one".utf8)))

        let cut = whole.capped(maxPayloadBytes: 3)
        #expect(cut.payload == Array("old".utf8))
        #expect(cut.originalSize == 7)
        let encoded = cut.encoded()
        #expect(encoded.first == 2, "a release without the caps skips it rather than replaying a prefix")
        let decoded = encoded.withUnsafeBytes { DeadLetter(decoding: $0) }
        #expect(decoded == cut)
        // Truncated bytes of either version are refused, not misread.
        for length in [1, 20, encoded.count - 4] {
            #expect(Array(encoded.prefix(length)).withUnsafeBytes { DeadLetter(decoding: $0) } == nil)
        }
    }
}
