import LogBridge
import LogBridgeCore
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Testing

import LogBridgePipeline

/// The gateway's one registry: every stage declares its series there, the pipeline's `metrics`
/// processor included, and one rendering shows them all.
@Suite struct SharedRegistryTests {
    func pipeline(_ definitions: [MetricDefinition], metrics: PipelineMetrics) throws -> SinkPipeline {
        try SinkPipeline(
            shared: PipelineConfiguration([.metrics(definitions)]), own: PipelineConfiguration(), sinkName: "out", sinkIndex: 0,
            sinkNames: ["out"], metrics: metrics, countsShared: true)
    }

    static func path(_ text: String) -> FieldPath { try! FieldPath(text) }

    @Test func oneRenderingHoldsEveryStage() throws {
        let statistics = GatewayStatistics()
        let metrics = PipelineMetrics(registry: statistics.metrics)
        statistics.source.sourceRecords(TopicPartition(topic: "logs", partition: 0)).add(4)
        statistics.spool.spooled.add(4)
        statistics.sink("es").delivered.add(3)
        statistics.configReloads.add(1)
        let pipeline = try pipeline(
            [MetricDefinition(name: "app_events_total", kind: .counter, labels: [.init(name: "app", field: Self.path("app"))])], metrics: metrics)
        _ = pipeline.process(RecordBatches.lines([#"{"app":"a"}"#, #"{"app":"a"}"#]), flush: true)

        let text = String(decoding: statistics.exposition(), as: UTF8.self)
        for line in [
            #"logbridge_source_records_total{topic="logs",partition="0"} 4"#, "logbridge_spool_records_total 4",
            #"logbridge_sink_records_delivered_total{sink="es"} 3"#, "logbridge_config_reloads_total 1", #"app_events_total{app="a"} 2"#,
        ] {
            #expect(text.contains(line + "\n"), "\(line) missing")
        }
        // The values stay readable beside the exported series.
        #expect(statistics.source.sourceRecords(TopicPartition(topic: "logs", partition: 0)).value == 4)
        #expect(statistics.sink("es").delivered.value == 3)
        #expect(metrics.value("app_events_total", labels: ["app": "a"]) == 2)
        let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
        #expect(Set(types).count == types.count, "each family is announced once")
    }

    @Test func theSeriesCapHoldsInTheSharedRegistry() throws {
        let statistics = GatewayStatistics()
        let metrics = PipelineMetrics(registry: statistics.metrics)
        let pipeline = try pipeline(
            [
                MetricDefinition(name: "pod_events_total", kind: .counter, labels: [.init(name: "pod", field: Self.path("pod"))], maxSeries: 2),
                MetricDefinition(name: "size_bytes", kind: .histogram, valueField: Self.path("size"), buckets: [10, 100]),
            ], metrics: metrics)
        _ = pipeline.process(RecordBatches.lines([#"{"pod":"a","size":5}"#, #"{"pod":"b","size":50}"#, #"{"pod":"c","size":500}"#, #"{"pod":"c"}"#]), flush: true)

        let text = String(decoding: statistics.exposition(), as: UTF8.self)
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("pod_events_total{") }.count == 2)
        #expect(!text.contains(#"pod_events_total{pod="c"}"#))
        #expect(text.contains(#"logbridge_pipeline_metric_series_dropped_total{metric="pod_events_total"} 2"#))
        #expect(text.contains(#"size_bytes_bucket{le="100.0"} 2"#))
        #expect(text.contains(#"size_bytes_count 3"#))
        #expect(metrics.value("size_bytes") == 3)
    }

    /// A `metrics` processor cannot take a name another stage's series hold: the configuration is
    /// refused (the exporter would otherwise stop the process, or render the family twice).
    @Test func aPipelineMetricCannotTakeAGatewayName() throws {
        let statistics = GatewayStatistics()
        let metrics = PipelineMetrics(registry: statistics.metrics)
        _ = statistics.sink("es")
        for taken in ["logbridge_spool_records_total", "logbridge_sink_endpoint_up", "logbridge_source_consumer_lag"] {
            #expect(throws: PipelineError.self) {
                try pipeline([MetricDefinition(name: taken, kind: .histogram, valueField: Self.path("size"))], metrics: metrics)
            }
        }
    }
}
