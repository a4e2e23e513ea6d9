import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeKafka
import LogBridgeMockCluster
import LogBridgeSpool
import LogBridgeTestKit
import Logging
import Testing

/// librdkafka 2.0 stops fetching while its prefetch queue is over `queued.max.messages.kbytes` and
/// does not start again when the queue drains; the source restarts fetching by seeking each
/// partition to its position (`FetchStallWatch`, `restartStoppedFetches`). With a queue far
/// smaller than one fetch answer, that happens again and again on the way through a backlog, and
/// every record must still arrive exactly once.
@Suite(.serialized)
struct FetchRestartTests {
    @Test func restartsAfterAFullPrefetchQueueLoseAndRepeatNothing() async throws {
        let partitions = 4
        let records = 40_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let statistics = GatewayStatistics()
        let logger = Logger(label: "fetch-restart")
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool")), sinks: ["reader"], statistics: statistics.spool,
            logger: logger)
        let source = try KafkaSource(
            configuration: KafkaSourceConfiguration(
                brokers: [cluster.bootstrapServers], topics: ["logs"], groupID: "fetch-restart",
                properties: [
                    "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
                    // A 64 KiB queue and 1 MiB answers: every answer fills the queue.
                    "queued.max.messages.kbytes": "64", "fetch.max.bytes": "1048576", "message.max.bytes": "100000",
                ]),
            target: spool, statistics: statistics.source, logger: logger)
        try source.start()
        let started = ContinuousClock.now
        let deadline = started + .seconds(60)
        while ContinuousClock.now < deadline, statistics.spool.spooled.value < records {
            try await Task.sleep(for: .milliseconds(50))
        }
        let took = ContinuousClock.now - started
        try await Task.sleep(for: .milliseconds(500))  // anything fetched twice would arrive now
        source.stop()

        #expect(statistics.spool.spooled.value == records, "every record spooled once")
        #expect(statistics.source.fetchRestarts.value > 0, "the small queue stops fetching; the source restarts it")
        var seen = Set<Int64>()
        var next: UInt64 = 0
        while true {
            let batch = try spool.read(from: next, maxRecords: 10_000, maxBytes: 64 << 20)
            if batch.isEmpty { break }
            for record in batch.records { seen.insert(Int64(record.partition) << 40 | record.offset) }
            next = batch.nextSequence
        }
        spool.close()
        #expect(seen.count == records, "each partition's offsets once, none skipped")
        print("fetch restarts: \(statistics.source.fetchRestarts.value) in \(took) for \(records) records")
    }
}
