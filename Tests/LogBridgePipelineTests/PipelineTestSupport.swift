import LogBridge
import LogBridgeCore

@testable import LogBridgePipeline

/// Builds spool-like windows of records and runs pipelines over them.
enum PipelineTestSupport {
    static func batch(_ lines: [String], firstSequence: UInt64 = 0, timestampMs: Int64 = 1_795_000_000_000) -> RecordBatch {
        var bytes: [UInt8] = []
        var records: [RecordBatch.Record] = []
        for (i, line) in lines.enumerated() {
            let start = bytes.count
            bytes += Array(line.utf8)
            let sequence = firstSequence + UInt64(i)
            records.append(RecordBatch.Record(
                sequence: sequence, topicIndex: 0, partition: 0, offset: Int64(sequence), timestampMs: timestampMs, key: nil,
                value: start..<bytes.count))
        }
        return RecordBatch(topics: ["logs"], bytes: bytes, records: records)
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
