import Foundation
import LogBridge
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// Mock Kafka -> spool -> Loki fake through rate limits and a failure after storing.
@Suite(.serialized)
struct LokiEndToEndTests {
    @Test func everyRecordIsStoredOnceThroughRateLimitsAndFailuresAfterStoring() async throws {
        let records = 6_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 4)
        let loki = try await FakeLoki()
        loki.inject(.status(429, retryAfter: "1"), .storeThenFail, .drop)
        let configuration = LokiSinkConfiguration(
            http: HTTPSinkSettings(endpoints: [loki.url], compression: .gzip),
            labels: [
                .init(name: "job", template: try FieldTemplate("aks")),
                .init(name: "namespace", template: try FieldTemplate("{kubernetes.namespace_name}")),
            ],
            structuredMetadata: [.init(name: "pod", template: try FieldTemplate("{kubernetes.pod_name}"))],
            tenantID: "team-a")
        let sink = SinkConfiguration(
            name: "loki", kind: configuration,
            runner: SinkRunnerConfiguration(batchSize: 500, maxBatchBytes: 1 << 20, interval: .milliseconds(100), concurrency: 4))
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, sinks: [sink])
        defer { harness.directory.remove() }

        let running = try harness.start()
        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(90)) { statistics.sink("loki").delivered.value >= records })
        try await running.stop()

        #expect(loki.entries.count == records, "every record stored once (the batch stored before the 500 was de-duplicated)")
        #expect(loki.duplicatesSkipped > 0)
        #expect(Set(loki.entries.map(\.labels)).count == 5, "one stream per namespace")
        // Each entry carries its own pod as structured metadata, not as a stream label.
        #expect(loki.entries.allSatisfy { entry in
            entry.metadata.count == 1 && entry.metadata["pod"].map { entry.line.contains(#""pod_name":"\#($0)""#) } == true
        })
        #expect(Set(loki.entries.compactMap { $0.metadata["pod"] }).count > 5)
        await loki.shutdown()
    }
}
