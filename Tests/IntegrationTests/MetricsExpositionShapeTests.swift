import Foundation
import LogBridge
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// One gateway whose `/metrics` holds every stage's series at once: source, spool, a file sink
/// and an Elasticsearch sink (endpoint histograms), the pipeline's redaction and discard counters
/// and a `metrics` processor with a counter, a gauge, a histogram and a capped family.
///
/// The shape of the exposition (`# HELP`/`# TYPE` lines, series names and labels, values left
/// out) is what dashboards and alert rules depend on; with `LOGBRIDGE_METRICS_SHAPE=path` set the
/// test writes it there, sorted, so two builds can be compared with `diff`.
@Suite struct MetricsExpositionShapeTests {
    @Test func everyStageIsOnOneScrape() async throws {
        let records = 2_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 2)
        let es = try await FakeElasticsearch()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        func path(_ text: String) -> FieldPath { try! FieldPath(text) }
        let shared = PipelineConfiguration([
            .metrics([
                MetricDefinition(name: "app_events_total", kind: .counter, labels: [.init(name: "app", field: path("kubernetes.container_name"))]),
                MetricDefinition(name: "last_date_seconds", kind: .gauge, labels: [.init(name: "stream", field: path("stream"))], valueField: path("date")),
                MetricDefinition(
                    name: "event_date_seconds", kind: .histogram, valueField: path("date"), buckets: [0.5, 1, 1e9, 2e9]),
                MetricDefinition(name: "pod_events_total", kind: .counter, labels: [.init(name: "pod", field: path("kubernetes.pod_name"))], maxSeries: 3),
            ]),
            // After the metrics, so their labels are the fields as they came.
            .redact(RedactOptions()),
        ])
        var http = HTTPSinkSettings(endpoints: [es.url])
        http.maxBackoff = .milliseconds(500)
        let sinks = [
            SinkConfiguration(
                name: "archive", kind: FileSinkConfiguration(path: directory.file("archive.ndjson")),
                runner: SinkRunnerConfiguration(batchSize: 500, maxBatchBytes: 1 << 20),
                pipeline: PipelineConfiguration([.drop(.equals(path("stream"), "stderr"))])),
            SinkConfiguration(
                name: "es", kind: ElasticsearchSinkConfiguration(http: http),
                runner: SinkRunnerConfiguration(batchSize: 500, maxBatchBytes: 1 << 20, interval: .milliseconds(50))),
        ]
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "metrics-shape", directory: directory, sinks: sinks, pipeline: shared)
        let running = try harness.start()
        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(90)) {
            statistics.sink("archive").delivered.value + statistics.sink("archive").discarded.value >= records
                && statistics.sink("es").delivered.value >= records
        })
        let port = try #require(await running.gateway.admin?.boundPort())
        let body = try await AdminProbe.get("http://127.0.0.1:\(port)/metrics").body
        try await running.stop()
        await es.shutdown()

        let shape = Self.shape(body, replacing: [es.url: "ES_URL"])
        if let target = ProcessInfo.processInfo.environment["LOGBRIDGE_METRICS_SHAPE"] {
            try shape.joined(separator: "\n").appending("\n").write(toFile: target, atomically: true, encoding: .utf8)
        }
        let samples = try PrometheusText.parse(body)
        for family in [
            "logbridge_source_records_total", "logbridge_spool_records_total", "logbridge_sink_records_delivered_total",
            "logbridge_sink_request_duration_seconds_count", "logbridge_pipeline_redactions_total", "logbridge_pipeline_discarded_events_total",
            "app_events_total", "last_date_seconds", "event_date_seconds_count", "pod_events_total",
            "logbridge_pipeline_metric_series_dropped_total", "logbridge_config_last_reload_success_timestamp_seconds",
        ] {
            #expect(samples.contains { $0.name == family }, "\(family) missing from /metrics")
        }
        #expect(samples.labelValues("pod_events_total", label: "pod").count == 3, "max_series caps the family")
        // Every family is announced once (two renderers would repeat or interleave them).
        let types = body.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count)
    }

    /// `# HELP`/`# TYPE` lines and series with their labels (sorted by name), values dropped.
    static func shape(_ body: String, replacing: [String: String]) -> [String] {
        var lines: [String] = []
        for line in body.split(separator: "\n") {
            var text = String(line)
            for (from, to) in replacing { text = text.replacingOccurrences(of: from, with: to) }
            if text.hasPrefix("#") {
                lines.append(text)
            } else if let space = text.lastIndex(of: " ") {
                let series = String(text[..<space])
                guard let brace = series.firstIndex(of: "{") else {
                    lines.append(series)
                    continue
                }
                let labels = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                    .split(separator: ",").sorted().joined(separator: ",")
                lines.append("\(series[..<brace]){\(labels)}")
            }
        }
        return lines.sorted()
    }
}
