import Benchmark
import Foundation
import LogBridgeCore
import LogBridgePipeline
import LogBridgeTestKit

// The pipeline's hot paths on the labelled PII corpus (Kubernetes lines, 20% with personal data of
// every kind plus decoys): the redaction scan alone, and a pipeline that parses the `log` JSON,
// extracts fields and redacts. Each iteration handles the whole corpus on one core; `MB/s` is per
// core. Targets (issue 4): >= 500 MB/s for the scan, >= 200 MB/s for the pipeline.

let piiLines = 20_000

final class PIIBenchCorpus: @unchecked Sendable {
    static let shared = PIIBenchCorpus()

    let lines: [[UInt8]]
    let isJSON: [Bool]
    let byteCount: Int
    /// The corpus as one spool window.
    let batch: RecordBatch

    init() {
        let generated = PIICorpus.generate(count: piiLines, seed: 7)
        lines = generated.map { Array($0.text.utf8) }
        isJSON = generated.map(\.isJSON)
        byteCount = lines.reduce(0) { $0 + $1.count }
        var batch = RecordBatch(topics: ["logs"])
        for (index, line) in lines.enumerated() {
            let start = batch.bytes.count
            batch.bytes += line
            batch.records.append(.init(
                sequence: UInt64(index), topicIndex: 0, partition: 0, offset: Int64(index), timestampMs: 1_795_000_000_000,
                key: nil, value: start..<batch.bytes.count))
        }
        batch.nextSequence = UInt64(lines.count)
        self.batch = batch
    }
}

func pipelineBenchmarks(cpu: Benchmark.Configuration) {
    var configuration = cpu
    configuration.setup = { _ = PIIBenchCorpus.shared }

    // Every default detector over every line, raw bytes in and out (what `redact` does when
    // nothing parsed the event first).
    Benchmark("RedactScan", configuration: configuration) { benchmark in
        let corpus = PIIBenchCorpus.shared
        let redactor = try Redactor(rules: RedactionRules())
        var counts = Array(repeating: 0, count: redactor.detectorNames.count)
        var output: [UInt8] = []
        output.reserveCapacity(1 << 16)
        var replaced = 0
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        for (index, line) in corpus.lines.enumerated() {
            output.removeAll(keepingCapacity: true)
            replaced += line.withUnsafeBytes {
                redactor.redact($0, context: corpus.isJSON[index] ? .jsonText : .plain, into: &output, counts: &counts)
            }
        }
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        blackHole(output)
        guard replaced > corpus.lines.count / 10 else {
            benchmark.error("only \(replaced) replacements in \(corpus.lines.count) lines")
            return
        }
        report(records: corpus.lines.count, bytes: corpus.byteCount, elapsed: elapsed, to: benchmark)
    }

    // Parse the `log` field's JSON into `log_processed`, lift two fields, redact every string,
    // write the event back out: the pipeline an operator runs on JSON application logs.
    Benchmark("PipelineParseExtractRedact", configuration: configuration) { benchmark in
        let corpus = PIIBenchCorpus.shared
        let path = { (text: String) in try! FieldPath(text) }
        let pipeline = try SinkPipeline(
            shared: PipelineConfiguration([
                .json(ParseJSONOptions(field: path("log"), target: path("log_processed"))),
                .rename([(path("log_processed.level"), path("level"))]),
                .set(field: path("namespace"), value: .template("{kubernetes.namespace_name}"), onlyIfMissing: false),
                .redact(RedactOptions()),
            ]),
            own: PipelineConfiguration(), sinkName: "bench", sinkIndex: 0, sinkNames: ["bench"], metrics: PipelineMetrics(),
            countsShared: true)
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        let output = pipeline.process(corpus.batch, flush: true, replay: true)
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        blackHole(output)
        guard output.batch.count == corpus.lines.count else {
            benchmark.error("\(output.batch.count) events out of \(corpus.lines.count)")
            return
        }
        report(records: corpus.lines.count, bytes: corpus.byteCount, elapsed: elapsed, to: benchmark)
    }
}

private func report(records: Int, bytes: Int, elapsed: Duration, to benchmark: Benchmark) {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    guard seconds > 0 else { return }
    benchmark.measurement(recordsPerSecond, Int((Double(records) / seconds).rounded()))
    benchmark.measurement(megabytesPerSecond, Int((Double(bytes) / 1e6 / seconds).rounded()))
}
