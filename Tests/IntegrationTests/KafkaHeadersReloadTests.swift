import LogBridge
import LogBridgeKafka
import LogBridgeTestKit
import Logging
import Testing

/// A reload that starts reading Kafka headers (the new configuration names one) restarts the
/// source and says that what is already spooled has none.
@Suite(.serialized)
struct KafkaHeadersReloadTests {
    @Test func aReloadThatStartsReadingHeadersSaysTheSpooledRecordsHaveNone() async throws {
        let records = 4_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 2)
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "headers-reload", keepsHeaders: false)
        defer { harness.directory.remove() }
        let logs = LogRecorder()
        let running = try harness.start(logger: Logger(label: "headers-reload") { _ in logs })
        #expect(await running.wait { running.delivered >= 1_000 })
        let firstSource = running.gateway.source

        var reading = harness.configuration
        reading.source.keepsHeaders = true
        try await running.gateway.reload(reading)
        #expect(running.gateway.source !== firstSource, "the source rejoins to read headers")
        #expect(logs.messages.contains { $0.contains("Kafka headers are read from now on") })

        #expect(await running.wait(timeout: .seconds(90)) { running.delivered >= records })
        try await running.stop()
        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(audit.unique == records, "\(audit)")
        #expect(audit.duplicates == 0, "\(audit)")
    }
}
