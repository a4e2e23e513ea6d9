import Foundation
import LogBridge
import LogBridgeKafka
import LogBridgeTestKit
import Logging
import Testing

/// The core data path against librdkafka's mock cluster: consumer group -> spool -> file sink.
@Suite(.serialized)
struct ConsumerGroupTests {
    @Test func everyRecordOverSeveralPartitionsArrivesExactlyOnce() async throws {
        let partitions = 6
        let records = 30_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers)
        defer { harness.directory.remove() }

        let running = try harness.start()
        let done = await running.wait(timeout: .seconds(90)) { running.delivered >= records }
        try await running.stop()

        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(done, "delivered \(running.delivered) of \(records)")
        #expect(audit.unique == records)
        #expect(audit.duplicates == 0)
        #expect(audit.malformed == 0)
        #expect(audit.missing(partitions: partitions, perPartition: DeliveryAudit.roundRobin(count: records, partitions: partitions)) == 0)
        #expect(running.statistics.spooled.value == records)
        #expect(running.statistics.duplicatesSkipped.value == 0)
    }

    @Test func cleanRestartResumesWhereItLeftOff() async throws {
        let partitions = 4
        let cluster = try MockKafkaCluster.seeded(records: 8_000, partitions: partitions)
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers)
        defer { harness.directory.remove() }

        let first = try harness.start()
        #expect(await first.wait { first.delivered >= 8_000 })
        try await first.stop()

        try cluster.seed(records: 4_000, from: 8_000, partitions: partitions)
        let second = try harness.start()
        #expect(await second.wait { second.delivered >= 4_000 })
        // Give a wrongly rewound consumer the chance to show itself before stopping.
        try await Task.sleep(for: .milliseconds(500))
        try await second.stop()

        #expect(second.statistics.consumed.value == 4_000, "the restarted gateway fetched only the new records")
        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(audit.unique == 12_000)
        #expect(audit.duplicates == 0)
    }

    @Test func secondMemberJoiningAndLeavingLosesAndDuplicatesNothing() async throws {
        let partitions = 8
        let total = 48_000
        let cluster = try MockKafkaCluster.seeded(records: 16_000, partitions: partitions)
        let a = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "rebalance")
        let b = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "rebalance")
        defer {
            a.directory.remove()
            b.directory.remove()
        }

        let first = try a.start(logger: Logger(label: "member-a"))
        #expect(await first.wait { first.delivered >= 4_000 })
        let second = try b.start(logger: Logger(label: "member-b"))
        // The group rebalances onto both members (cooperative: A gives up some partitions).
        #expect(await second.wait(timeout: .seconds(60)) {
            second.gateway.source.assignment.count > 0 && first.gateway.source.assignment.count < partitions
        })
        try cluster.seed(records: 16_000, from: 16_000, partitions: partitions)
        #expect(await second.wait(timeout: .seconds(60)) {
            second.delivered > 0 && DeliveryAudit(files: [a.outputPath, b.outputPath]).unique >= 32_000
        })
        // B leaves: its partitions go back to A, which continues after B's committed offsets.
        try await second.stop()
        try cluster.seed(records: 16_000, from: 32_000, partitions: partitions)
        #expect(await first.wait(timeout: .seconds(90)) {
            DeliveryAudit(files: [a.outputPath, b.outputPath]).unique >= total
        })
        try await Task.sleep(for: .milliseconds(500))
        try await first.stop()

        let audit = DeliveryAudit(files: [a.outputPath, b.outputPath])
        #expect(first.statistics.rebalances.value >= 2)
        #expect(audit.unique == total)
        #expect(audit.duplicates == 0, "\(audit)")
        #expect(audit.missing(partitions: partitions, perPartition: DeliveryAudit.roundRobin(count: total, partitions: partitions)) == 0)
    }

    @Test func brokerDownAndUpMidStreamIsSurvived() async throws {
        let partitions = 6
        let cluster = try MockKafkaCluster.seeded(records: 18_000, partitions: partitions)
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers)
        defer { harness.directory.remove() }

        let running = try harness.start()
        #expect(await running.wait { running.delivered >= 1_000 })
        cluster.setBrokerDown(1)
        cluster.setBrokerDown(2)
        try await Task.sleep(for: .seconds(3))
        cluster.setBrokerUp(1)
        cluster.setBrokerUp(2)
        #expect(await running.wait(timeout: .seconds(90)) { running.delivered >= 18_000 })
        try await running.stop()

        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(audit.unique == 18_000)
        #expect(audit.duplicates == 0)
    }
}
