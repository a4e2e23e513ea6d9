import Foundation
import LogBridgeCore
import LogBridgeTestSupport
import Logging
import Testing

@testable import LogBridgeSpool

@Suite struct SpoolTests {
    let logger = Logger(label: "spool-test")

    func open(_ directory: TemporaryDirectory, sinks: [String] = ["a"], maxBytes: Int = 64 << 20, maxRecordBytes: Int = 1 << 20,
              statistics: SpoolStatistics = SpoolStatistics()) throws -> Spool {
        try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: maxBytes, maxRecordBytes: maxRecordBytes),
            sinks: sinks, statistics: statistics, logger: logger)
    }

    @Test func aNewSpoolDirectoryIsClosedToOtherUsersAndAnExistingOneKeepsItsMode() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // With the usual umask (022) a plain mkdir would give 0755.
        let path = directory.file("nested/spool")
        try Spool.createDirectory(path, logger: logger)
        let created = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(created.map { $0 & 0o700 == 0o700 && $0 & 0o027 == 0 } == true, "0750 at most: \(String(created ?? 0, radix: 8))")
        let spool = try Spool(
            configuration: SpoolConfiguration(path: path, maxBytes: 64 << 20), sinks: ["a"], statistics: SpoolStatistics(),
            logger: logger)
        spool.close()
        for file in try FileManager.default.contentsOfDirectory(atPath: path) {
            let mode = try FileManager.default.attributesOfItem(atPath: path + "/" + file)[.posixPermissions] as? Int
            #expect((mode ?? 0o777) & 0o007 == 0, "\(file) is not readable by others")
        }
        // An existing directory is the operator's: its mode is not changed.
        let existing = directory.file("existing")
        try FileManager.default.createDirectory(atPath: existing, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try Spool.createDirectory(existing, logger: logger)
        #expect(try FileManager.default.attributesOfItem(atPath: existing)[.posixPermissions] as? Int == 0o700)
    }

    @Test func recordsAndNextOffsetsAreStoredTogetherAndSurviveReopen() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            #expect(spool.offer(TestIngest.sequential(partition: 0, from: 0, count: 100), timeout: .seconds(1)))
            #expect(spool.offer(TestIngest.sequential(partition: 3, from: 50, count: 10), timeout: .seconds(1)))
            let offsets = spool.finishWrites(revoking: [])
            #expect(offsets.isEmpty)
            spool.close()
        }
        let spool = try open(directory)
        defer { spool.close() }
        let offsets = spool.nextOffsets(for: [TopicPartition(topic: "logs", partition: 0), TopicPartition(topic: "logs", partition: 3)])
        #expect(offsets[TopicPartition(topic: "logs", partition: 0)] == 100)
        #expect(offsets[TopicPartition(topic: "logs", partition: 3)] == 60)
        let batch = try spool.read(from: 0, maxRecords: 1_000, maxBytes: 1 << 20)
        #expect(batch.count == 110)
        #expect(batch.records.map(\.sequence) == Array(0..<110))
        #expect(batch.withValue(of: batch.records[105]) { String(decoding: $0, as: UTF8.self) } == "record-3-55")
        #expect(batch.topics[batch.records[0].topicIndex] == "logs")
    }

    @Test func refetchedOffsetsAreNotSpooledTwice() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let statistics = SpoolStatistics()
        let spool = try open(directory, statistics: statistics)
        defer { spool.close() }
        #expect(spool.offer(TestIngest.sequential(partition: 1, from: 0, count: 50), timeout: .seconds(1)))
        // A rebalance or restart fetches 40..<80 again.
        #expect(spool.offer(TestIngest.sequential(partition: 1, from: 40, count: 40), timeout: .seconds(1)))
        _ = spool.finishWrites(revoking: [])
        #expect(statistics.spooled.value == 80)
        #expect(statistics.duplicatesSkipped.value == 10)
        let batch = try spool.read(from: 0, maxRecords: 1_000, maxBytes: 1 << 20)
        #expect(batch.records.map(\.offset) == (0..<80).map(Int64.init))
    }

    @Test func tombstonesAreSkippedAndOversizeRecordsAreDeadLettered() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let statistics = SpoolStatistics()
        let spool = try open(directory, maxRecordBytes: 1024, statistics: statistics)
        defer { spool.close() }
        let batch = TestIngest.batch([
            .init(partition: 0, offset: 0, value: Array("ok".utf8)),
            .init(partition: 0, offset: 1, value: nil),
            .init(partition: 0, offset: 2, value: []),
            .init(partition: 0, offset: 3, value: Array(repeating: 65, count: 4096)),
            .init(partition: 0, offset: 4, value: Array("after".utf8), key: Array("k".utf8)),
        ])
        #expect(spool.offer(batch, timeout: .seconds(1)))
        let revoked = spool.finishWrites(revoking: [TopicPartition(topic: "logs", partition: 0)])
        #expect(revoked[TopicPartition(topic: "logs", partition: 0)] == 5, "skipped offsets still advance")
        #expect(statistics.skippedEmpty.value == 2)
        #expect(statistics.oversize.value == 1)
        let read = try spool.read(from: 0, maxRecords: 10, maxBytes: 1 << 20)
        #expect(read.records.map(\.offset) == [0, 4])
        #expect(read.records[1].key.map { Array(read.bytes[$0]) } == Array("k".utf8))
        let letters = try spool.deadLetters(limit: 10)
        #expect(letters.count == 1)
        #expect(letters[0].stage == "source")
        #expect(letters[0].offset == 3)
        #expect(letters[0].payload.count == 1024, "the first max_record_bytes of it")
        #expect(letters[0].originalSize == 4096)
        #expect(letters[0].reason.contains("max_record_bytes"))
    }

    @Test func recordsAreDeletedOnlyOnceEverySinkHasDeliveredThem() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(directory, sinks: ["a", "b"])
        #expect(spool.offer(TestIngest.sequential(partition: 0, from: 0, count: 100), timeout: .seconds(1)))
        _ = spool.finishWrites(revoking: [])
        try await spool.commit(sink: "a", checkpoint: SinkCheckpoint(nextSequence: 100, state: [1, 2, 3]))
        #expect(spool.usage.records == 100, "sink b still needs them")
        try await spool.commit(sink: "b", checkpoint: SinkCheckpoint(nextSequence: 60))
        #expect(spool.usage.records == 40)
        #expect(spool.checkpoint(sink: "a") == SinkCheckpoint(nextSequence: 100, state: [1, 2, 3]))
        spool.close()

        let reopened = try open(directory, sinks: ["a", "b", "c"])
        defer { reopened.close() }
        #expect(reopened.checkpoint(sink: "a") == SinkCheckpoint(nextSequence: 100, state: [1, 2, 3]))
        #expect(reopened.checkpoint(sink: "b").nextSequence == 60)
        #expect(reopened.checkpoint(sink: "c").nextSequence == 60, "a new sink starts at the oldest spooled record")
        #expect(reopened.nextSequence == 100)
    }

    @Test func aFullSpoolPausesTheSourceAndRecoversWhenSinksFreeRoom() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let statistics = SpoolStatistics()
        let spool = try open(directory, maxBytes: 2 << 20, statistics: statistics)
        defer { spool.close() }
        var offset: Int64 = 0
        var offered = 0
        // Offer until the spool pushes back (watermark or map full).
        while offered < 10_000 && !spool.wantsSourcePaused {
            let items = (0..<100).map { i in
                TestIngest.Item(partition: 0, offset: offset + Int64(i), value: TestIngest.incompressible(count: 1000, seed: UInt64(offset) + UInt64(i)))
            }
            if !spool.offer(TestIngest.batch(items), timeout: .milliseconds(500)) { break }
            offset += 100
            offered += 100
            _ = spool.finishWrites(revoking: [])
        }
        #expect(spool.wantsSourcePaused, "the spool asked the source to pause")
        #expect(offered < 10_000)
        let spooled = statistics.spooled.value
        #expect(spooled > 0)
        // The sink delivers everything: the records are trimmed and the spool has room again.
        try await spool.commit(sink: "a", checkpoint: SinkCheckpoint(nextSequence: spool.nextSequence))
        _ = spool.finishWrites(revoking: [])
        try await eventually(timeout: .seconds(5), interval: .milliseconds(100)) {
            try await spool.commit(sink: "a", checkpoint: SinkCheckpoint(nextSequence: spool.nextSequence))
            return !spool.wantsSourcePaused
        }
        #expect(!spool.wantsSourcePaused)
        #expect(spool.offer(TestIngest.sequential(partition: 0, from: offset, count: 10), timeout: .seconds(1)))
        _ = spool.finishWrites(revoking: [])
        #expect(spool.nextOffsets(for: [TopicPartition(topic: "logs", partition: 0)]).values.first == offset + 10)
    }

    @Test func asecondProcessCannotOpenTheSameSpool() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        #expect(throws: SpoolError.self) { try open(directory) }
    }

    @Test func waitingForRecordsWakesOnCommit() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        async let woke: Void = spool.waitForRecords(from: 0)
        // Lets the waiter block first; had it not, it returns at once: no false failure either way.
        try await Task.sleep(for: .milliseconds(50))
        #expect(spool.offer(TestIngest.sequential(partition: 0, from: 0, count: 1), timeout: .seconds(1)))
        await woke
        #expect(spool.nextSequence == 1)
    }
}
