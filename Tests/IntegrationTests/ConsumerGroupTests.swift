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
        #expect(running.statistics.spool.spooled.value == records)
        #expect(running.statistics.source.duplicatesSkipped.value == 0)
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

        #expect(second.statistics.source.consumed.value == 4_000, "the restarted gateway fetched only the new records")
        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(audit.unique == 12_000)
        #expect(audit.duplicates == 0)
    }

    @Test func secondMemberJoiningAndLeavingLosesAndDuplicatesNothing() async throws {
        let result = try await joinAndLeave(group: "rebalance", refuseCommitsAtJoin: 0)
        #expect(result.rebalances >= 2)
        #expect(result.audit.unique == 48_000)
        #expect(result.audit.duplicates == 0, "\(result.audit)")
        #expect(result.missing == 0)
    }

    /// The coordinator refuses the first member's revoke commit (as librdkafka's mock does when
    /// it has restarted the join): the next owner starts from the last accepted commit, which
    /// already covers everything the first member spooled, so nothing is fetched twice.
    @Test func aRefusedRevokeCommitRepeatsNothingThatWasCommitted() async throws {
        let result = try await joinAndLeave(group: "rebalance-refused", refuseCommitsAtJoin: 25)
        #expect(result.revokeCommitFailures >= 1, "the injected refusals reached the revoke commit")
        #expect(result.audit.unique == 48_000)
        #expect(result.audit.duplicates == 0, "\(result.audit)")
        #expect(result.missing == 0)
    }

    /// Member A consumes 16,000 records; B joins (cooperative: A gives up some partitions), more
    /// records arrive, B leaves (its partitions go back to A, which continues after B's committed
    /// offsets), more records arrive. Both file sinks together must hold each record once.
    ///
    /// B joins once A's auto-commit has committed what A spooled, as in a running group where
    /// commits go out every second. Joining earlier makes the revoke commit the only thing that
    /// stops B from fetching A's records again, and librdkafka's mock coordinator refuses it
    /// whenever it has restarted the join (it refuses commits while the group is joining, where
    /// Kafka accepts them from the current generation): B then fetched every record of the revoked
    /// partitions again (a fresh-clone run failed with "duplicates 8000": 4 partitions x 2,000).
    /// logbridge promises no repeat up to the last commit the coordinator accepted; OperationsTests
    /// covers records spooled after it.
    /// - Parameter refuseCommitsAtJoin: OffsetCommit requests refused (REBALANCE_IN_PROGRESS) from
    ///   the moment B starts: more than the revoke commit's 20 attempts plus the odd auto-commit.
    private func joinAndLeave(
        group: String, refuseCommitsAtJoin: Int
    ) async throws -> (audit: DeliveryAudit, missing: Int, rebalances: Int, revokeCommitFailures: Int) {
        let partitions = 8
        let total = 48_000
        let cluster = try MockKafkaCluster.seeded(records: 16_000, partitions: partitions)
        let a = GatewayHarness(bootstrap: cluster.bootstrapServers, group: group)
        let b = GatewayHarness(bootstrap: cluster.bootstrapServers, group: group)
        defer {
            a.directory.remove()
            b.directory.remove()
        }

        let first = try a.start(logger: Logger(label: "member-a"))
        let perPartition = DeliveryAudit.roundRobin(count: 16_000, partitions: partitions).map(Int64.init)
        #expect(await first.wait(timeout: .seconds(60)) {
            first.delivered >= 16_000 && (try? cluster.committedOffsets(group: group, topic: "logs", partitions: partitions)) == perPartition
        })
        if refuseCommitsAtJoin > 0 { cluster.refuseOffsetCommits(count: refuseCommitsAtJoin) }
        let second = try b.start(logger: Logger(label: "member-b"))
        #expect(await second.wait(timeout: .seconds(60)) {
            second.gateway.source.assignment.count > 0 && first.gateway.source.assignment.count < partitions
        })
        try cluster.seed(records: 16_000, from: 16_000, partitions: partitions)
        #expect(await second.wait(timeout: .seconds(60)) {
            second.delivered > 0 && DeliveryAudit(files: [a.outputPath, b.outputPath]).unique >= 32_000
        })
        try await second.stop()
        try cluster.seed(records: 16_000, from: 32_000, partitions: partitions)
        #expect(await first.wait(timeout: .seconds(90)) {
            DeliveryAudit(files: [a.outputPath, b.outputPath]).unique >= total
        })
        // Time for a wrongly repeated record to arrive before the audit.
        try await Task.sleep(for: .milliseconds(500))
        try await first.stop()

        let audit = DeliveryAudit(files: [a.outputPath, b.outputPath])
        let missing = audit.missing(partitions: partitions, perPartition: DeliveryAudit.roundRobin(count: total, partitions: partitions))
        return (audit, missing, first.statistics.source.rebalances.value, first.statistics.source.revokeCommitFailures.value)
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
        try await Task.sleep(for: .seconds(3))  // the outage's length: nothing to wait for
        cluster.setBrokerUp(1)
        cluster.setBrokerUp(2)
        #expect(await running.wait(timeout: .seconds(90)) { running.delivered >= 18_000 })
        try await running.stop()

        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(audit.unique == 18_000)
        #expect(audit.duplicates == 0)
    }
}
