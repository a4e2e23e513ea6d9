import Foundation
import LogBridgeCore
import LogBridgeTestSupport
import Logging
import Testing

@testable import LogBridgeSpool

/// One-off: writes the format-2 fixture (run with LOGBRIDGE_WRITE_SPOOL_FIXTURE=DIR).
@Suite struct FixtureWriter {
    @Test func writeFormatTwoFixture() async throws {
        guard let path = ProcessInfo.processInfo.environment["LOGBRIDGE_WRITE_SPOOL_FIXTURE"] else { return }
        let spool = try Spool(
            configuration: SpoolConfiguration(path: path, maxBytes: 16 << 20), sinks: ["es", "file", "hec"],
            statistics: SpoolStatistics(), logger: Logger(label: "fixture"))
        // 40 records: two topics, two partitions, a key on every 7th, headers on every 5th, one empty value.
        var owned: [UnsafeMutableRawBufferPointer] = []
        func copy(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            owned.append(buffer)
            return UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
        }
        var records: [IngestRecord] = []
        for i in 0..<40 {
            let topic = i % 3 == 0 ? 1 : 0
            let partition = Int32(i % 2)
            let offset = Int64(100 + i)
            let value = i == 13 ? [] : Array("{\"log\":\"fixture record \(i) é\",\"stream\":\"stdout\",\"n\":\(i)}".utf8)
            let key = i % 7 == 0 ? copy(Array("key-\(i)".utf8)) : nil
            var headers: UnsafeRawBufferPointer?
            if i % 5 == 0 {
                // A KafkaHeaders block: u32 count | (u32 name len | name | i32 value len | value)*
                var block: [UInt8] = []
                func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { block.append(contentsOf: $0) } }
                u32(1); u32(3); block += Array("trc".utf8); u32(2); block += Array("h\(i % 10)".utf8)
                headers = copy(block)
            }
            records.append(IngestRecord(
                topicIndex: topic, partition: partition, offset: offset, timestampMs: 1_795_000_000_000 + Int64(i),
                key: key, value: copy(value), headers: headers))
        }
        let batch = IngestBatch(topics: ["logs", "audit"], records: records, release: { owned.forEach { $0.deallocate() } })
        #expect(spool.offer(batch, timeout: .seconds(5)))
        _ = spool.finishWrites(revoking: [])
        try await spool.commit(sink: "es", checkpoint: SinkCheckpoint(nextSequence: 10, state: [7, 7]))
        try await spool.commit(
            sink: "file", checkpoint: SinkCheckpoint(nextSequence: 3),
            deadLetters: [DeadLetter(
                stage: "file", reason: "fixture rejection", topic: "logs", partition: 0, offset: 101,
                timestampMs: 1_795_000_000_001, deadLetteredAtMs: 1_795_000_000_500, payload: Array("rejected-by-file".utf8))])
        try await spool.deadLetter([DeadLetter(
            stage: "es", reason: "mapper_parsing_exception", topic: "audit", partition: 1, offset: 103,
            timestampMs: 1_795_000_000_003, deadLetteredAtMs: 1_795_000_000_600, payload: Array("replay-me-to-es".utf8))])
        let replayed = try await spool.replayDeadLetters(sink: "es", sinks: ["es", "file", "hec"])
        #expect(replayed.handled == 1)
        try await spool.saveNote(sink: "hec", name: "channels", value: Array("fixture-channel".utf8))
        #expect(spool.nextSequence == 40)
        spool.close()
    }
}
