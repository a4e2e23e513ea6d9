import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeKafka
import LogBridgeSpool
import LogBridgeTestKit
import Logging
import Testing

/// A full spool pauses the Kafka partitions (polling continues), and they resume once a sink frees
/// room; nothing is lost or spooled twice on the way.
@Suite(.serialized)
struct BackpressureTests {
    @Test func aFullSpoolPausesConsumptionAndResumesWhenSinksCatchUp() async throws {
        let partitions = 4
        let records = 20_000  // ~6.5 MB of payload against a 4 MiB spool
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let statistics = GatewayStatistics()
        let logger = Logger(label: "backpressure")
        let spool = try Spool(
            // Uncompressed: the synthetic records compress to less than the spool holds.
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 4 << 20, compression: .none),
            sinks: ["slow"], statistics: statistics.spool, logger: logger)
        let source = try KafkaSource(
            configuration: KafkaSourceConfiguration(
                brokers: [cluster.bootstrapServers], topics: ["logs"], groupID: "backpressure",
                properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]),
            target: spool, statistics: statistics.source, logger: logger)
        try source.start()

        // Nobody delivers: the spool fills up and the source pauses instead of dropping or crashing.
        let deadline = ContinuousClock.now + .seconds(60)
        // A pause for a writer that is behind (a loaded machine) comes and goes; the spool being
        // full is what this waits for.
        while ContinuousClock.now < deadline, statistics.source.pausedPartitions.value == 0 || !spool.wantsSourcePaused {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(statistics.source.pausedPartitions.value == partitions)
        #expect(spool.wantsSourcePaused)
        // Messages librdkafka had already fetched when the pause took effect may still be handed
        // over (they wait in the writer's queue, counted, not dropped); once that tail has
        // settled, nothing more may arrive.
        var consumedWhilePaused = statistics.source.consumed.value
        let settleDeadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < settleDeadline {
            try await Task.sleep(for: .milliseconds(500))
            let now = statistics.source.consumed.value
            if now == consumedWhilePaused { break }
            consumedWhilePaused = now
        }
        try await Task.sleep(for: .seconds(2))
        #expect(statistics.source.consumed.value == consumedWhilePaused, "nothing is fetched while paused")
        #expect(statistics.spool.spooled.value < records)
        #expect(spool.usage.usedBytes <= 4 << 20, "the spool stays under max_bytes")

        // A sink delivers what is spooled, again and again: consumption resumes and completes.
        var delivered = 0
        let drainDeadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < drainDeadline, delivered < records {
            let batch = try spool.read(from: spool.checkpoint(sink: "slow").nextSequence, maxRecords: 5_000, maxBytes: 8 << 20)
            delivered += batch.count
            try await spool.commit(sink: "slow", checkpoint: SinkCheckpoint(nextSequence: batch.nextSequence))
            if batch.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        source.stop()
        spool.close()
        #expect(delivered == records)
        #expect(statistics.spool.spooled.value == records)
        #expect(statistics.source.pausedPartitions.value == 0)
    }
}
