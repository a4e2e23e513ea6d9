import Foundation
import LogBridgeCore
import LogBridgeKafka
import LogBridgeMetrics
import LogBridgeMockCluster
import LogBridgeSpool
import LogBridgeTestSupport
import Logging
import Testing

/// Kafka headers reach the spool only when the configuration reads one
/// (`KafkaSourceConfiguration.keepsHeaders`, set by the loader): reading them costs librdkafka an
/// allocation per record even when a record has none.
@Suite(.serialized) struct KafkaHeadersReadTests {
    static let records = 20

    /// What the spool holds for each record: its `trace` header, or nil.
    func spooledTraces(keepsHeaders: Bool) async throws -> [String?] {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("logs", partitions: 1)
        for i in 0..<Self.records {
            try cluster.produce(
                topic: "logs", partition: 0, value: Array(#"{"log":"line \#(i)"}"#.utf8), headers: [("trace", Array("t-\(i)".utf8))])
        }
        try cluster.flush()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let logger = Logger(label: "headers")
        let statistics = ExportedStatistics()
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 64 << 20), sinks: ["out"], statistics: statistics.spool,
            logger: logger)
        defer { spool.close() }
        let source = try KafkaSource(
            configuration: KafkaSourceConfiguration(
                brokers: [cluster.bootstrapServers], topics: ["logs"], groupID: "headers-\(keepsHeaders)", keepsHeaders: keepsHeaders),
            target: spool, statistics: statistics.source, logger: logger)
        try source.start()
        defer { source.stop() }
        #expect(await eventually(timeout: .seconds(60)) { spool.usage.records >= Self.records })
        let batch = try spool.read(from: 0, maxRecords: 100, maxBytes: 1 << 20)
        #expect(batch.records.count == Self.records)
        return batch.bytes.withUnsafeBytes { bytes in
            batch.records.map { record in
                KafkaRecordMetadata(record, of: batch, bytes: bytes).headers
                    .flatMap { KafkaHeaders.value(named: Array("trace".utf8), in: $0) }
                    .map { String(decoding: $0, as: UTF8.self) }
            }
        }
    }

    @Test func headersAreSpooledWhenTheConfigurationReadsThem() async throws {
        #expect(try await spooledTraces(keepsHeaders: true) == (0..<Self.records).map { "t-\($0)" })
    }

    @Test func headersAreNotReadWhenNothingNamesThem() async throws {
        #expect(try await spooledTraces(keepsHeaders: false) == Array(repeating: nil, count: Self.records))
    }
}
