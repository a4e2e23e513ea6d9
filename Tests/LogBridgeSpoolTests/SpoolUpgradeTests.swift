import Foundation
import LogBridgeCore
import LogBridgeTestSupport
import Logging
import Testing

@testable import LogBridgeSpool

/// A spool written by the previous release (format 2, Fixtures/spool-format2) opened by this one:
/// nothing lost, nothing repeated, old and new records read as one log.
@Suite struct SpoolUpgradeTests {
    let logger = Logger(label: "spool-upgrade-test")
    static let sinks = ["es", "file", "hec"]

    /// A writable copy of the committed fixture (LMDB opens its file read-write).
    func fixtureCopy(_ directory: TemporaryDirectory) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/spool-format2/data.mdb")
        let path = directory.file("spool")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source.path, toPath: path + "/data.mdb")
        return path
    }

    func open(_ path: String, compression: SpoolCompression = .lz4) throws -> Spool {
        try Spool(
            configuration: SpoolConfiguration(path: path, maxBytes: 64 << 20, compression: compression),
            sinks: Self.sinks, statistics: SpoolStatistics(), logger: logger)
    }

    /// What the fixture's README says it holds, by sequence: (topic, partition, offset, value, key, header).
    struct Expected: Equatable {
        var sequence: UInt64
        var topic: String
        var partition: Int32
        var offset: Int64
        var value: String
        var key: String?
        var hasHeaders: Bool
    }

    static let fixtureRecords: [Expected] = {
        var list: [Expected] = []
        var sequence: UInt64 = 0
        for i in 0..<40 where i != 13 {
            list.append(Expected(
                sequence: sequence, topic: i % 3 == 0 ? "audit" : "logs", partition: Int32(i % 2), offset: Int64(100 + i),
                value: "{\"log\":\"fixture record \(i) é\",\"stream\":\"stdout\",\"n\":\(i)}",
                key: i % 7 == 0 ? "key-\(i)" : nil, hasHeaders: i % 5 == 0))
            sequence += 1
        }
        return list
    }()

    static let replayed = Expected(
        sequence: 39, topic: "audit", partition: 1, offset: 103, value: "replay-me-to-es", key: nil, hasHeaders: false)

    func describe(_ batch: RecordBatch) -> [Expected] {
        batch.records.map { record in
            Expected(
                sequence: record.sequence, topic: batch.topics[record.topicIndex], partition: record.partition,
                offset: record.offset, value: String(decoding: batch.bytes[record.value], as: UTF8.self),
                key: record.key.map { String(decoding: batch.bytes[$0], as: UTF8.self) }, hasHeaders: record.headers != nil)
        }
    }

    @Test func aFormatTwoSpoolIsReadWhole() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(try fixtureCopy(directory))
        defer { spool.close() }
        #expect(try spool._formatVersion() == "3")
        #expect(spool.nextSequence == 40)
        #expect(spool.checkpoint(sink: "es") == SinkCheckpoint(nextSequence: 10, state: [7, 7]))
        #expect(spool.checkpoint(sink: "file") == SinkCheckpoint(nextSequence: 3))
        #expect(spool.checkpoint(sink: "hec") == SinkCheckpoint(nextSequence: 0))
        // Every record, in order, for a sink that was not the replay's target.
        #expect(describe(try spool.read(from: 0, maxRecords: 1000, maxBytes: 8 << 20, for: "hec")) == Self.fixtureRecords)
        // The replayed letter is es's alone.
        let es = describe(try spool.read(from: 10, maxRecords: 1000, maxBytes: 8 << 20, for: "es"))
        #expect(es == Array(Self.fixtureRecords.dropFirst(10)) + [Self.replayed])
        // Kafka positions, dead letters and notes came through.
        let offsets = spool.nextOffsets(for: [
            TopicPartition(topic: "logs", partition: 0), TopicPartition(topic: "logs", partition: 1),
            TopicPartition(topic: "audit", partition: 0), TopicPartition(topic: "audit", partition: 1),
        ])
        #expect(offsets == [
            TopicPartition(topic: "logs", partition: 0): 139, TopicPartition(topic: "logs", partition: 1): 138,
            TopicPartition(topic: "audit", partition: 0): 137, TopicPartition(topic: "audit", partition: 1): 140,
        ])
        let letters = try spool.deadLetters(limit: 10)
        #expect(letters.map(\.stage) == ["file"])
        #expect(letters.first?.payload == Array("rejected-by-file".utf8))
        #expect(try spool.note(sink: "hec", name: "channels") == Array("fixture-channel".utf8))
        #expect(spool.usage.records == 40)
    }

    @Test func newRecordsFollowTheOldOnesAndTheOldAreTrimmedOnceDelivered() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = try fixtureCopy(directory)
        do {
            let spool = try open(path)
            // Offsets already spooled are not spooled again; the rest follow the old records.
            #expect(spool.offer(TestIngest.sequential(partition: 0, from: 130, count: 109), timeout: .seconds(5)))
            _ = spool.finishWrites(revoking: [])
            #expect(spool.nextSequence == 140, "offsets 130-138 of logs/0 were in the old spool")
            try await spool.commit(sink: "es", checkpoint: SinkCheckpoint(nextSequence: 20))
            try await spool.commit(sink: "file", checkpoint: SinkCheckpoint(nextSequence: 30))
            try await spool.commit(sink: "hec", checkpoint: SinkCheckpoint(nextSequence: 25))
            spool.close()
        }
        do {
            // Restarted between two deliveries: the old records not delivered everywhere are still
            // read from where each sink stopped, then the new ones.
            let spool = try open(path, compression: .zstd)
            let hec = describe(try spool.read(from: 25, maxRecords: 1000, maxBytes: 8 << 20, for: "hec"))
            #expect(hec.map(\.sequence) == Array(25..<39) + Array(40..<140))
            #expect(Array(hec.prefix(14)) == Array(Self.fixtureRecords[25...]))
            #expect(hec.dropFirst(14).map(\.offset) == Array(139..<239))
            #expect(hec.dropFirst(14).map(\.value) == (139..<239).map { "record-0-\($0)" })
            for sink in Self.sinks { try await spool.commit(sink: sink, checkpoint: SinkCheckpoint(nextSequence: 45)) }
            spool.close()
        }
        let spool = try open(path, compression: .none)
        defer { spool.close() }
        #expect(try spool.read(from: 0, maxRecords: 1000, maxBytes: 8 << 20).records.first?.sequence == 45)
        #expect(spool.usage.records == 95)
        #expect(spool.checkpoint(sink: "es").nextSequence == 45)
    }
}

/// Segments: compression settings, readers at any sequence, damaged segments.
@Suite struct SpoolSegmentTests {
    let logger = Logger(label: "spool-segment-test")

    func open(_ directory: TemporaryDirectory, compression: SpoolCompression, sinks: [String] = ["a"]) throws -> Spool {
        try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 64 << 20, compression: compression),
            sinks: sinks, statistics: SpoolStatistics(), logger: logger)
    }

    func values(_ batch: RecordBatch) -> [String] {
        batch.records.map { String(decoding: batch.bytes[$0.value], as: UTF8.self) }
    }

    @Test(arguments: SpoolCompression.allCases)
    func aSpoolWrittenWithOneSettingIsReadWithAnyOther(_ first: SpoolCompression) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var offset: Int64 = 0
        // Large enough for several segments per setting (each record ~60 bytes, 256 KiB per segment).
        for compression in [first] + SpoolCompression.allCases.filter({ $0 != first }) {
            let spool = try open(directory, compression: compression)
            #expect(spool.offer(TestIngest.sequential(partition: 0, from: offset, count: 12_000), timeout: .seconds(5)))
            _ = spool.finishWrites(revoking: [])
            offset += 12_000
            spool.close()
        }
        let spool = try open(directory, compression: .none)
        defer { spool.close() }
        var sequence: UInt64 = 0
        var read: [String] = []
        // Odd batch sizes so reads start and stop inside segments.
        while sequence < UInt64(offset) {
            let batch = try spool.read(from: sequence, maxRecords: 777, maxBytes: 8 << 20)
            #expect(!batch.records.isEmpty)
            read += values(batch)
            sequence = batch.nextSequence
        }
        #expect(read == (0..<offset).map { "record-0-\($0)" })
    }

    /// The corpus is Fluent Bit-shaped JSON with random personal data in one record in five, which
    /// compresses less than real container logs; `make bench` measures the spool on the synthetic
    /// Kubernetes records (docs/spool-format.md).
    @Test func compressionStoresFluentBitRecordsInFewerBytes() throws {
        for compression in SpoolCompression.allCases {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            let spool = try open(directory, compression: compression)
            defer { spool.close() }
            var json = 0
            let lines = PIICorpus.generate(count: 20_000).filter(\.isJSON)
            for chunk in 0..<5 {
                let items = (0..<(lines.count / 5)).map { i -> TestIngest.Item in
                    let n = chunk * (lines.count / 5) + i
                    let value = Array(lines[n].text.utf8)
                    json += value.count
                    return TestIngest.Item(partition: 0, offset: Int64(n), value: value)
                }
                #expect(spool.offer(TestIngest.batch(items), timeout: .seconds(5)))
            }
            _ = spool.finishWrites(revoking: [])
            let ratio = Double(spool.usage.usedBytes) / Double(json)
            switch compression {
            case .none: #expect(ratio > 0.9, "\(ratio)")
            case .lz4: #expect(ratio <= 0.6, "\(ratio) spool bytes per JSON byte")
            case .zstd: #expect(ratio <= 0.33, "\(ratio) spool bytes per JSON byte")
            }
        }
    }

    @Test func damagedSegmentsAreQuarantinedAndTheRecordsAfterThemAreRead() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try open(directory, compression: .lz4)
            for part in 0..<3 {
                #expect(spool.offer(TestIngest.sequential(partition: 0, from: Int64(part * 100), count: 100), timeout: .seconds(5)))
                _ = spool.finishWrites(revoking: [])
            }
            spool.close()
        }
        // As a bad disk block would: the middle segment's body (sequences 100-199) and the last
        // segment's record count (200-299, so its length cannot be trusted either).
        do {
            let env = try LMDBEnvironment(directory: directory.file("spool"), mapSize: 64 << 20, maxDatabases: 8)
            try env.write { (txn) throws(SpoolError) in
                let segments = try txn.openDatabase("segments", create: false)
                guard var middle = try txn.get(segments, key: SpoolKey.sequence(100)),
                    var last = try txn.get(segments, key: SpoolKey.sequence(200))
                else { throw .lmdb(code: 0, message: "no segment", operation: "test") }
                for i in (middle.count - 40)..<middle.count { middle[i] ^= 0x5a }
                last[5] ^= 0x01  // count 100 -> 356
                try txn.put(segments, key: SpoolKey.sequence(100), value: middle)
                try txn.put(segments, key: SpoolKey.sequence(200), value: last)
            }
        }
        let spool = try open(directory, compression: .lz4)
        defer { spool.close() }
        let first = try spool.read(from: 0, maxRecords: 1000, maxBytes: 8 << 20)
        #expect(values(first) == (0..<100).map { "record-0-\($0)" })
        #expect(first.nextSequence == 300, "past both damaged segments, to the end of the log, not beyond")
        try await eventually { (try? spool.deadLetters(limit: 10).count) == 2 }
        #expect(try spool.deadLetters(limit: 10).map(\.reason) == [
            "corrupt segment in the spool at sequence 100", "corrupt segment in the spool at sequence 200",
        ])
        // What comes next is read as usual.
        #expect(spool.offer(TestIngest.sequential(partition: 0, from: 300, count: 50), timeout: .seconds(5)))
        _ = spool.finishWrites(revoking: [])
        let next = try spool.read(from: first.nextSequence, maxRecords: 1000, maxBytes: 8 << 20)
        #expect(values(next) == (300..<350).map { "record-0-\($0)" })
        #expect(next.records.first?.sequence == 300)
    }
}

/// Segments are LMDB overflow pages, which need runs of contiguous free pages: a spool that fills
/// and drains again and again must reuse the pages it freed, not grow its file until the map is
/// full (what a forwarder running for months does).
@Suite struct SpoolSegmentReuseTests {
    @Test func aSpoolFilledAndDrainedManyTimesKeepsItsFileSize() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 32 << 20, compression: .lz4),
            sinks: ["a"], statistics: SpoolStatistics(), logger: Logger(label: "spool-reuse-test"))
        defer { spool.close() }
        // The blocking work (offers, barriers, reads) runs on a thread of its own, not on the
        // two threads of Swift's cooperative pool, which the rest of the suite needs meanwhile.
        let worker = DedicatedThread(name: "spool-reuse-test")
        defer { worker.shutdown() }
        // Values cut one after the other from 16 MiB that do not compress: nothing repeats within
        // lz4's 64 KiB window.
        let pool = TestIngest.incompressible(count: 16 << 20, seed: 3)
        var sizes: [Int] = []
        for round in 0..<30 {
            let cursor = spool.checkpoint(sink: "a").nextSequence
            let read = try await worker.run { [spool] () throws -> (next: UInt64, first: UInt64?, offered: Bool, written: UInt64) in
                // ~6 MiB per round, in batches of varied size so the segments (and the runs of
                // pages they take) differ in length.
                let count = 5_000 + (round % 7) * 300
                var offset = Int64(cursor)
                var cut = Int(cursor * 997 % UInt64(pool.count - 2_000))
                var items: [TestIngest.Item] = []
                var offered = true
                for i in 0..<count {
                    let length = 800 + (i * 37 + round * 11) % 900
                    if cut + length > pool.count { cut = 0 }
                    items.append(TestIngest.Item(partition: 0, offset: offset, value: Array(pool[cut..<(cut + length)])))
                    cut += length
                    offset += 1
                    if items.count == 700 || i == count - 1 {
                        offered = spool.offer(TestIngest.batch(items), timeout: .seconds(10)) && offered
                        items.removeAll()
                    }
                }
                _ = spool.finishWrites(revoking: [])
                let batch = try spool.read(from: cursor, maxRecords: 1_000_000, maxBytes: 64 << 20)
                return (batch.nextSequence, batch.records.first?.sequence, offered, UInt64(offset))
            }
            #expect(read.offered)
            #expect(read.next == read.written, "round \(round): every record read back")
            #expect(read.first == cursor)
            try await spool.commit(sink: "a", checkpoint: SinkCheckpoint(nextSequence: read.next))
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("spool/data.mdb"))
            sizes.append((attributes[.size] as? Int) ?? 0)
        }
        #expect(!spool.wantsSourcePaused)
        // Freed runs of pages are reused: 30 rounds wrote ~180 MiB, and the file holds a few
        // rounds at most. Alone, it settles at ~12 MiB by the fifth round; in the full suite on
        // two loaded cores, transactions group batches differently and it crept to ~15 MiB.
        // Without reuse it would pass the 48 MiB map by the eighth round.
        #expect(sizes.max()! <= 28 << 20, "data.mdb sizes after each round: \(sizes)")
    }
}
