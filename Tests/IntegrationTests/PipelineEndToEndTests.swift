import Foundation
import LogBridge
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// Mock Kafka -> spool -> shared pipeline (regex, redact, route) -> per-sink pipelines -> two
/// file sinks: routes split the records, nothing personal leaves, metrics count each event once.
@Suite(.serialized)
struct PipelineEndToEndTests {
    @Test func routedRedactedRecordsReachTheirSinksExactlyOnce() async throws {
        let records = 4_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 4)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        func path(_ text: String) -> FieldPath { try! FieldPath(text) }
        let shared = PipelineConfiguration([
            .regex(RegexOptions(extract: ExtractOptions(field: path("log"), target: path("parsed")), pattern: #"^\S+ (?P<level>[A-Z]+) \[(?P<app>[a-z]+)\]"#)),
            .redact(RedactOptions()),
            .metrics([MetricDefinition(name: "app_errors_total", kind: .counter, labels: [.init(name: "app", field: path("parsed.app"))], when: .equals(path("parsed.level"), "ERROR"))]),
            .route(rules: [RouteRule(when: .equals(path("kubernetes.namespace_name"), "payments"), sinks: ["payments"])], fallback: ["rest"]),
        ])
        let sinks = ["payments", "rest"].map { name in
            SinkConfiguration(
                name: name, kind: FileSinkConfiguration(path: directory.file("\(name).ndjson"), encoding: .raw),
                runner: SinkRunnerConfiguration(batchSize: 700, maxBatchBytes: 1 << 20),
                pipeline: name == "rest" ? PipelineConfiguration([.drop(.equals(path("parsed.level"), "DEBUG"))]) : PipelineConfiguration())
        }
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, directory: directory, sinks: sinks, pipeline: shared)
        let running = try harness.start()
        let statistics = running.statistics
        let arrived = await running.wait(timeout: .seconds(90)) {
            statistics.sink("payments").delivered.value + statistics.sink("payments").discarded.value >= records
                && statistics.sink("rest").delivered.value + statistics.sink("rest").discarded.value >= records
        }
        #expect(arrived)
        try await running.stop()

        let payments = try String(contentsOfFile: directory.file("payments.ndjson"), encoding: .utf8).split(separator: "\n")
        let rest = try String(contentsOfFile: directory.file("rest.ndjson"), encoding: .utf8).split(separator: "\n")
        // SyntheticLogs: namespace by index % 5 (payments = 1), level by index % 6 (DEBUG = 5).
        let expectedPayments = (0..<records).filter { $0 % 5 == 1 }.count
        let expectedRest = (0..<records).filter { $0 % 5 != 1 && $0 % 6 != 5 }.count
        #expect(payments.count == expectedPayments)
        #expect(rest.count == expectedRest)
        #expect(payments.allSatisfy { $0.contains(#""namespace_name":"payments""#) })
        let everything = payments + rest
        for secret in ["jane.doe@example.com", "4111 1111 1111 1111", "5500-0000-0000-0004", "+44 20 7946 0958", "alice@example.net"] {
            #expect(!everything.contains { $0.contains(secret) }, "\(secret) left the pipeline")
        }
        #expect(everything.contains { $0.contains("[REDACTED:email]") })
        // Counted once although two sinks ran the shared pipeline.
        let errors = (0..<records).filter { $0 % 6 == 4 }
        let total = ["checkout", "billing", "login", "catalog", "controller"].reduce(0.0) {
            $0 + (running.gateway.pipelineMetrics.value("app_errors_total", labels: ["app": $1]) ?? 0)
        }
        #expect(Int(total) == errors.count)
    }
}
