import LogBridgeMetrics
import LogBridgeCore

@testable import LogBridgePipeline
import LogBridgeTestSupport

/// Builds spool-like windows of records and runs pipelines over them.
enum PipelineTestSupport {
    static func batch(_ lines: [String], firstSequence: UInt64 = 0, timestampMs: Int64 = 1_795_000_000_000) -> RecordBatch {
        RecordBatches.lines(lines, firstSequence: firstSequence, timestampMs: timestampMs)
    }

    static func texts(_ batch: RecordBatch) -> [String] {
        batch.records.map { String(decoding: batch.bytes[$0.value], as: UTF8.self) }
    }

    static func pipeline(
        _ processors: [ProcessorConfiguration], own: [ProcessorConfiguration] = [], sink: String = "out", sinks: [String] = ["out"],
        metrics: PipelineMetrics = PipelineMetrics(), countsShared: Bool = true
    ) throws -> SinkPipeline {
        try SinkPipeline(
            shared: PipelineConfiguration(processors), own: PipelineConfiguration(own), sinkName: sink,
            sinkIndex: sinks.firstIndex(of: sink), sinkNames: sinks, metrics: metrics, countsShared: countsShared)
    }

    /// Runs one window (flushing) and returns the output texts.
    static func run(_ processors: [ProcessorConfiguration], _ lines: [String]) throws -> [String] {
        texts(try pipeline(processors).process(batch(lines), flush: true).batch)
    }

    static func path(_ text: String) -> FieldPath { try! FieldPath(text) }
}

extension PipelineMetrics {
    /// Metrics exported to a Prometheus registry of their own, so ``render()`` can show them.
    static func exported() -> PipelineMetrics { PipelineMetrics(registry: PrometheusMetricsRegistry()) }

    /// The Prometheus text of the registry behind these metrics (made by ``exported()``).
    func render() -> String {
        guard let registry = registry as? PrometheusMetricsRegistry else { return "" }
        return String(decoding: registry.exposition(), as: UTF8.self)
    }
}
