import Foundation
import LogBridge
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// Mock Kafka -> spool -> Splunk HEC fake with indexer acknowledgements.
@Suite(.serialized)
struct SplunkHECEndToEndTests {
    @Test func everyRecordIsIndexedAndALostAckIsResentWithTheSameEventIDs() async throws {
        let partitions = 4
        let records = 8_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        var options = FakeSplunkHEC.Options()
        options.poison = "order 1240 placed"
        let hec = try await FakeSplunkHEC(options: options)
        hec.inject(.status(503, code: 9), .loseAck)
        var configuration = SplunkHECSinkConfiguration(
            http: HTTPSinkSettings(endpoints: [hec.url]), sourcetype: try FieldTemplate("_json"),
            // 6 s: under a loaded full suite an acknowledgement that is merely late (not lost) took
            // over 2 s, and its batch was sent again too (a fresh-clone run saw 1,000 duplicates).
            ackPollInterval: .milliseconds(100), ackTimeout: .seconds(6))
        configuration.setToken(options.token)
        let sink = SinkConfiguration(
            name: "splunk", kind: configuration,
            runner: SinkRunnerConfiguration(
                batchSize: 500, maxBatchBytes: 1 << 20, interval: .milliseconds(100), concurrency: 4, maxPendingConfirmations: 64))
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, sinks: [sink])
        defer { harness.directory.remove() }

        let running = try harness.start()
        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(90)) {
            statistics.sink("splunk").delivered.value + statistics.sink("splunk").deadLettered.value >= records
        })
        try await running.stop()

        let ids = hec.eventIDs
        #expect(Set(ids).count == records - 1, "every record but the poisoned one")
        #expect(statistics.sink("splunk").deadLettered.value == 1)
        let letters = try running.gateway.spool.deadLetters(limit: 10)
        #expect(letters.first?.reason.contains("code 6") == true)
        // The batch whose ack was lost was sent again after the deadline: duplicates bounded by it.
        #expect(hec.duplicates > 0 && hec.duplicates <= 500, "duplicates: \(hec.duplicates)")
        #expect(statistics.sink("splunk").delivered.value == records - 1)
        await hec.shutdown()
    }
}
