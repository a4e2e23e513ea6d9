import Foundation
import LogBridgeCore
import LogBridgeTestSupport
import Logging
import Testing

@testable import LogBridgeSpool

/// Issue 15, item 8: the spool stores each record's topic as a 16-bit index, so it can index
/// ``SpoolConfiguration/maxTopics`` distinct topics over its life. `check` refuses a longer
/// `topics:` list, but a `^regex` subscription can reach more at run time: the writer must then
/// fail the write cleanly (records held, offsets not committed, the error counted) instead of
/// trapping on `UInt16(count)` as it did.
@Suite struct SpoolTopicLimitTests {
    let logger = Logger(label: "spool-topic-limit")

    /// One record for the first topic; the batch names `topics` topics, all of which the writer
    /// enters in the topic table before writing.
    func batch(topics: [String]) -> IngestBatch {
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: 5, alignment: 1)
        value.copyBytes(from: Array("hello".utf8))
        let record = IngestRecord(
            topicIndex: 0, partition: 0, offset: 0, timestampMs: 1_795_000_000_000, key: nil, value: UnsafeRawBufferPointer(value))
        return IngestBatch(topics: topics, records: [record], release: { value.deallocate() })
    }

    @Test func aFullTopicTableFailsTheWriteInsteadOfTrapping() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-topics")
        defer { directory.remove() }
        let statistics = SpoolStatistics()
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 256 << 20), sinks: ["a"],
            statistics: statistics, logger: logger)
        defer { spool.close() }
        let limit = SpoolConfiguration.maxTopics
        #expect(limit == 65_536)

        // Exactly the limit fits.
        #expect(spool.offer(batch(topics: (0..<limit).map { "t\($0)" }), timeout: .seconds(10)))
        _ = spool.finishWrites(revoking: [])
        #expect(statistics.spoolWriteErrors.value == 0)
        #expect(spool.nextOffsets(for: [TopicPartition(topic: "t0", partition: 0)])[TopicPartition(topic: "t0", partition: 0)] == 1)

        // One more distinct topic: refused, held, nothing committed for it.
        #expect(spool.offer(batch(topics: ["one-too-many"]), timeout: .seconds(10)))
        _ = spool.finishWrites(revoking: [])
        #expect(statistics.spoolWriteErrors.value >= 1)
        #expect(spool.nextOffsets(for: [TopicPartition(topic: "one-too-many", partition: 0)]).isEmpty)
        #expect(try spool.read(from: 0, maxRecords: 10, maxBytes: 1 << 20).count == 1, "only the first batch's record")
    }

    @Test func theErrorSaysWhatToDo() {
        let error = SpoolError.topicTableFull(topic: "logs-2031", limit: SpoolConfiguration.maxTopics)
        #expect(error.description.contains("logs-2031"))
        #expect(error.description.contains("65536 distinct topics"))
        #expect(error.description.contains("source.kafka.topics"))
        #expect(!error.isOutOfSpace)
    }
}
