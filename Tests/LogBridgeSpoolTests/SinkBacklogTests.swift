import Foundation
import LogBridgeCore
import LogBridgeMetrics
import LogBridgeTestSupport
import Logging
import Synchronization
import Testing

@testable import LogBridgeSpool

/// Sink isolation in the spool: a `skip_oldest` sink over its limit has its cursor moved past its
/// oldest records in the writer's transaction, a `block` sink never does, and the result survives
/// a restart.
@Suite struct SinkBacklogTests {
    let logger = Logger(label: "backlog-test")
    /// 1000-byte values: 1024 bytes each in the spool (24-byte header, no key).
    static let value = [UInt8](repeating: UInt8(ascii: "v"), count: 1000)

    func open(_ directory: TemporaryDirectory, sinks: [String], maxBytes: Int = 64 << 20, statistics: SpoolStatistics = SpoolStatistics())
        throws -> Spool
    {
        try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: maxBytes, skipEpisodeQuietPeriod: .milliseconds(200)),
            sinks: sinks, statistics: statistics, logger: logger)
    }

    func write(_ spool: Spool, records: Int, from offset: Int64 = 0) {
        var offset = offset
        let end = offset + Int64(records)
        while offset < end {
            let count = min(100, end - offset)
            // Each value its own: the spool compresses what repeats, and the full-spool tests
            // need records that fill its pages.
            let items = (0..<count).map {
                TestIngest.Item(partition: 0, offset: offset + $0, value: TestIngest.incompressible(count: Self.value.count, seed: UInt64(offset + $0)))
            }
            #expect(spool.offer(TestIngest.batch(items), timeout: .seconds(5)))
            offset += count
        }
        _ = spool.finishWrites(revoking: [])
    }

    @Test func aSkippingSinkOverItsByteLimitSkipsOnlyItsOldestRecordsAndABlockingSinkKeepsAll() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let spool = try open(directory, sinks: ["primary", "secondary"], statistics: statistics)
        spool.setBacklogLimits([
            "primary": SinkBacklogLimit(maxBytes: 100 * 1024),  // block: the limit alone never skips
            "secondary": SinkBacklogLimit(maxBytes: 100 * 1024, whenFull: .skipOldest),
        ])
        write(spool, records: 1000)
        #expect(spool.checkpoint(sink: "primary").nextSequence == 0, "a blocking sink is never skipped")
        #expect(spool.checkpoint(sink: "secondary").nextSequence == 900, "100 records of 1024 bytes fit in 100 KiB")
        #expect(spool.usage.records == 1000, "the primary still needs them all")
        _ = metrics.exposition()
        #expect(statistics.sink("secondary").backlogBytes.value == 100 * 1024)
        #expect(statistics.sink("primary").backlogBytes.value == 1000 * 1024)

        // The primary delivers: the spool is trimmed behind the secondary's moved cursor.
        try await spool.commit(sink: "primary", checkpoint: SinkCheckpoint(nextSequence: 1000))
        #expect(spool.usage.records == 100)
        // The secondary's runner finishes a batch it had in flight before the skip: its cursor does
        // not move back (that would read skipped records again), its state is kept.
        try await spool.commit(sink: "secondary", checkpoint: SinkCheckpoint(nextSequence: 40, state: [7]))
        #expect(spool.checkpoint(sink: "secondary") == SinkCheckpoint(nextSequence: 900, state: [7]))
        // It reads from where it was: the 900 records are gone, and the read says so.
        let read = try spool.readCountingGap(from: 40, maxRecords: 10, maxBytes: 1 << 20, for: "secondary")
        #expect(read.gap == 860)
        #expect(read.batch.records.first?.sequence == 900)

        // More records: the secondary stays at its limit, moving only as far as needed.
        write(spool, records: 50, from: 1000)
        #expect(spool.checkpoint(sink: "secondary").nextSequence == 950)
        spool.close()
    }

    @Test func anAgeLimitSkipsRecordsThatWaitedTooLongEvenWithNothingNewArriving() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(directory, sinks: ["primary", "secondary"])
        defer { spool.close() }
        spool.setBacklogLimits(["secondary": SinkBacklogLimit(maxAge: .seconds(1), whenFull: .skipOldest)])
        let writing = ContinuousClock.now
        write(spool, records: 300)
        let early = spool.checkpoint(sink: "secondary").nextSequence
        // Only when writing took less than max_age can the records still be younger than it (a
        // loaded disk can make three fsynced commits take longer).
        if ContinuousClock.now - writing < .milliseconds(900) {
            #expect(early == 0, "younger than max_age")
        }
        // No more records: the idle writer notices the age on its own (it wakes every second).
        await eventually(timeout: .seconds(5), interval: .milliseconds(100)) { spool.checkpoint(sink: "secondary").nextSequence != 0 }
        #expect(spool.checkpoint(sink: "secondary").nextSequence == 300)
        #expect(spool.checkpoint(sink: "primary").nextSequence == 0)
    }

    @Test func anEpisodeIsLoggedOnceWhenItStartsAndOnceWhenItEndsWithTheRangeSkipped() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let recorder = LogLines()
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 64 << 20, skipEpisodeQuietPeriod: .seconds(2)),
            sinks: ["primary", "secondary"], statistics: SpoolStatistics(), logger: Logger(label: "episode") { _ in recorder })
        defer { spool.close() }
        spool.setBacklogLimits(["secondary": SinkBacklogLimit(maxBytes: 100 * 1024, whenFull: .skipOldest)])
        write(spool, records: 1000)
        write(spool, records: 50, from: 1000)
        write(spool, records: 50, from: 1050)
        #expect(spool.checkpoint(sink: "secondary").nextSequence == 1000)
        let started = recorder.lines.filter { $0.contains("sink is over its backlog limit (backlog.max_bytes)") }
        #expect(started.count == 1, "one warning per episode, not one per skip: \(recorder.lines)")
        #expect(started.first?.contains("from_sequence=0 ") == true)
        #expect(started.first?.contains("first_skipped=logs/0@0 ") == true)
        #expect(started.first?.contains("sink.name=secondary") == true)
        // The writer notices the quiet period within its one-second idle wake-up. 2 s of quiet,
        // not less: a slow fsync or a descheduled thread between the writes above must not end
        // the episode early.
        await eventually(timeout: .seconds(30), interval: .milliseconds(100)) {
            recorder.lines.contains(where: { $0.contains("back under its backlog limit") })
        }
        let ended = recorder.lines.filter { $0.contains("back under its backlog limit") }
        #expect(ended.count == 1)
        #expect(ended.first?.contains("from_sequence=0 ") == true)
        #expect(ended.first?.contains("to_sequence=1000 ") == true)
        #expect(ended.first?.contains("sequences_skipped=1000 ") == true)
        #expect(ended.first?.contains("last_skipped=logs/0@999 ") == true)
        #expect(ended.first?.contains("spooled_from_ms=-") == false, "the spool times of the range are logged")
    }

    @Test func aSkipIsDurableWithTheRecordsAndSurvivesARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try open(directory, sinks: ["primary", "secondary"])
            spool.setBacklogLimits(["secondary": SinkBacklogLimit(maxBytes: 200 * 1024, whenFull: .skipOldest)])
            write(spool, records: 1000)
            #expect(spool.checkpoint(sink: "secondary").nextSequence == 800)
            // No further commit: the skip was in the transaction that spooled the records.
            spool.close()
        }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let reopened = try open(directory, sinks: ["primary", "secondary"], statistics: statistics)
        defer { reopened.close() }
        #expect(reopened.checkpoint(sink: "secondary").nextSequence == 800)
        #expect(reopened.checkpoint(sink: "primary").nextSequence == 0)
        #expect(reopened.nextSequence == 1000)
        // The byte totals came back with the marks: the next records are measured on top of them.
        reopened.setBacklogLimits(["secondary": SinkBacklogLimit(maxBytes: 200 * 1024, whenFull: .skipOldest)])
        write(reopened, records: 100, from: 1000)
        #expect(reopened.checkpoint(sink: "secondary").nextSequence == 900)
        _ = metrics.exposition()
        #expect(statistics.sink("secondary").backlogBytes.value == 200 * 1024)
        #expect(statistics.sink("primary").backlogBytes.value == 1100 * 1024)
    }

    @Test func aFullSpoolSkipsTheSinkHoldingItUnlessABlockingSinkHoldsItToo() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(directory, sinks: ["primary", "secondary"], maxBytes: 4 << 20)
        defer { spool.close() }
        // No byte or age limit: the secondary skips only when it is what keeps the spool full.
        spool.setBacklogLimits(["secondary": SinkBacklogLimit(whenFull: .skipOldest)])
        var offset: Int64 = 0
        func fill() {
            while !spool.wantsSourcePaused, offset < 20_000 {
                let items = (0..<100).map {
                    TestIngest.Item(partition: 0, offset: offset + Int64($0), value: TestIngest.incompressible(count: 1000, seed: UInt64(offset) + UInt64($0)))
                }
                guard spool.offer(TestIngest.batch(items), timeout: .milliseconds(500)) else { break }
                offset += 100
                _ = spool.finishWrites(revoking: [])
            }
        }
        fill()
        #expect(spool.wantsSourcePaused, "both sinks are behind: the primary blocks, so Kafka pauses")
        // Longer than the writer's idle wake-up (1 s), when it looks for skips to make.
        try await Task.sleep(for: .milliseconds(1200))
        #expect(spool.checkpoint(sink: "secondary").nextSequence == 0, "never skipped past a blocking sink")
        #expect(spool.wantsSourcePaused)

        // The primary catches up; the secondary alone holds the spool: it skips, without any commit
        // of its own, down to the low watermark, and the source resumes.
        let full = spool.nextSequence
        try await spool.commit(sink: "primary", checkpoint: SinkCheckpoint(nextSequence: full))
        await eventually(timeout: .seconds(10), interval: .milliseconds(50)) { !spool.wantsSourcePaused }
        #expect(!spool.wantsSourcePaused)
        let skippedTo = spool.checkpoint(sink: "secondary").nextSequence
        #expect(skippedTo > 0 && skippedTo < full, "only the oldest records, not the whole backlog: \(skippedTo) of \(full)")
        #expect(Double(spool.usage.usedBytes) <= Double(4 << 20) * 0.7 + 65536)
        #expect(Double(spool.usage.usedBytes) >= Double(4 << 20) * 0.5, "only as far as needed")
    }

    @Test func aFormatOneSpoolIsUpgradedInPlaceWithNothingLost() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try open(directory, sinks: ["a", "b"])
            write(spool, records: 500)
            try await spool.commit(sink: "a", checkpoint: SinkCheckpoint(nextSequence: 200, state: [1]))
            spool.close()
        }
        // Make it what the previous version wrote: no marks, no byte total, format "1".
        do {
            let env = try LMDBEnvironment(directory: directory.file("spool"), mapSize: 64 << 20, maxDatabases: 8)
            try env.write { (txn) throws(SpoolError) in
                let marks = try txn.openDatabase("marks", create: false)
                let meta = try txn.openDatabase("meta", create: false)
                _ = try txn.deleteFromStart(marks, limit: .max) { _ in true }
                try txn.delete(meta, key: SpoolKey.backlogBytes)
                try txn.put(meta, key: SpoolKey.format, value: Array("1".utf8))
            }
        }
        let metrics = PrometheusMetricsRegistry()  // scraped as /metrics is
        let statistics = SpoolStatistics(registry: metrics)
        let spool = try open(directory, sinks: ["a", "b"], statistics: statistics)
        defer { spool.close() }
        #expect(try spool.read(from: 0, maxRecords: 1000, maxBytes: 8 << 20).count == 500)
        #expect(spool.checkpoint(sink: "a") == SinkCheckpoint(nextSequence: 200, state: [1]))
        #expect(spool.nextOffsets(for: [TopicPartition(topic: "logs", partition: 0)]).values.first == 500)
        spool.setBacklogLimits(["b": SinkBacklogLimit(maxBytes: 100 * 1024, whenFull: .skipOldest)])
        write(spool, records: 100, from: 500)
        #expect(spool.checkpoint(sink: "b").nextSequence == 500, "the upgrade measured the records it found")
        _ = metrics.exposition()
        #expect(statistics.sink("a").backlogBytes.value == 400 * 1024)
        let format = try spool._formatVersion()
        #expect(format == "3")
    }
}

/// Keeps each log line (message and sorted metadata) for assertions.
final class LogLines: LogHandler, @unchecked Sendable {
    // `@unchecked Sendable`: `stored` is guarded by its mutex; the rest is set once by the logger.
    private let stored = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var lines: [String] { stored.withLock { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = self.metadata.merging(metadata ?? [:]) { $1 }
        stored.withLock { $0.append("\(message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) ") }
    }
}
