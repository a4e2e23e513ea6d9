import Benchmark
import CLMDBBaseline
import Foundation
import LogBridge
import LogBridgeTestKit
import LogBridgeCore
import LogBridgeSinks
import LogBridgeSpool
import Logging

// Micro-benchmarks of the hot paths, on the same Fluent Bit-style records as `make bench`
// (`SyntheticLogs`, ~320 B of JSON each). Every iteration handles the whole corpus (or one
// 10,000-record batch for EnvelopeEncode), so the built-in `throughput` metric is corpora per
// second; the custom `records/s` and `MB/s` metrics give the same rate per record and per payload
// byte. Setup that is not the code under test (opening the spool or the LMDB environment, building
// the batches, removing the directory) happens outside `startMeasurement()`/`stopMeasurement()`.

let records = 100_000
let batchRecords = 10_000
/// The spool's default `transactionMaxBytes`; the raw LMDB baseline commits at the same size.
let transactionBytes = 8 << 20

let recordsPerSecond = BenchmarkMetric.custom("records/s", polarity: .prefersLarger, useScalingFactor: false)
let megabytesPerSecond = BenchmarkMetric.custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    // The disk-bound benchmarks fsync ~32 MB per iteration: a handful of iterations is enough.
    let durable = Benchmark.Configuration(
        metrics: BenchmarkMetric.default + [recordsPerSecond, megabytesPerSecond],
        warmupIterations: 1,
        maxDuration: .seconds(15),
        maxIterations: 10,
        setup: { _ = Corpus.shared }
    )
    let cpu = Benchmark.Configuration(
        metrics: BenchmarkMetric.default + [recordsPerSecond, megabytesPerSecond],
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 200,
        setup: { _ = Corpus.shared }
    )

    // 100,000 records through the real spool: offer in 10,000-record batches, then wait until all
    // of it is committed and fsync'd. A fresh spool directory per iteration.
    Benchmark("SpoolIngest", configuration: durable) { benchmark in
        let corpus = Corpus.shared
        let directory = try BenchDirectory("spool")
        defer { directory.remove() }
        let statistics = SpoolStatistics()
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.path, maxBytes: 1 << 30),
            sinks: ["bench"], statistics: statistics, logger: logger)
        defer { spool.close() }
        var batches = stride(from: 0, to: corpus.count, by: batchRecords).map {
            corpus.ingestBatch($0..<min($0 + batchRecords, corpus.count))
        }

        benchmark.startMeasurement()
        let start = ContinuousClock.now
        for batch in batches where !spool.offer(batch, timeout: .seconds(5)) {
            benchmark.error("the spool refused a batch")
            return
        }
        _ = spool.finishWrites(revoking: [])
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()

        batches.removeAll()
        guard statistics.spooled.value == corpus.count else {
            benchmark.error("spooled \(statistics.spooled.value) of \(corpus.count) records")
            return
        }
        corpus.report(records: corpus.count, bytes: corpus.byteCount, elapsed: elapsed, to: benchmark)
    }

    // The floor under SpoolIngest: the same values straight into liblmdb from C, mdb_put with
    // MDB_APPEND under big-endian sequence keys, one commit (fsync) per 8 MiB of payload.
    Benchmark("LMDBRawBaseline", configuration: durable) { benchmark in
        let corpus = Corpus.shared
        let directory = try BenchDirectory("lmdb")
        defer { directory.remove() }
        var error: Int32 = 0
        guard let env = lmdb_baseline_open(directory.path, 1 << 30, &error) else {
            benchmark.error("mdb_env_open: \(String(cString: lmdb_baseline_strerror(error)))")
            return
        }
        defer { lmdb_baseline_close(env) }
        var transactions = 0

        benchmark.startMeasurement()
        let start = ContinuousClock.now
        let rc = corpus.ends.withUnsafeBufferPointer { ends in
            lmdb_baseline_append(
                env, corpus.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), ends.baseAddress!,
                corpus.count, 0, transactionBytes, &transactions)
        }
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()

        guard rc == 0 else {
            benchmark.error("mdb_put/mdb_txn_commit: \(String(cString: lmdb_baseline_strerror(rc)))")
            return
        }
        let stored = lmdb_baseline_count(env)
        guard stored == corpus.count else {
            benchmark.error("stored \(stored) of \(corpus.count) records in \(transactions) transactions")
            return
        }
        corpus.report(records: corpus.count, bytes: corpus.byteCount, elapsed: elapsed, to: benchmark)
    }

    // The JSON check the envelope encoding makes on every value, over the 100,000 records.
    Benchmark("JSONValidate", configuration: cpu) { benchmark in
        let corpus = Corpus.shared
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        var valid = 0
        for index in 0..<corpus.count where JSONBytes.isValid(corpus.value(index)) {
            valid += 1
        }
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()

        blackHole(valid)
        guard valid == corpus.count else {
            benchmark.error("\(corpus.count - valid) records judged invalid JSON")
            return
        }
        corpus.report(records: corpus.count, bytes: corpus.byteCount, elapsed: elapsed, to: benchmark)
    }

    // One sink batch of 10,000 records encoded as `{"topic":…,"event":…}` lines.
    Benchmark("EnvelopeEncode", configuration: cpu) { benchmark in
        let batch = Corpus.shared.recordBatch
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        let encoded = RecordEncoding.envelope.encode(batch)
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()

        blackHole(encoded)
        guard encoded.count > batch.bytes.count else {
            benchmark.error("envelope output (\(encoded.count) B) smaller than its input")
            return
        }
        Corpus.shared.report(records: batch.count, bytes: batch.bytes.count, elapsed: elapsed, to: benchmark)
    }

    pipelineBenchmarks(cpu: cpu)
}

/// The 100,000 `SyntheticLogs` records laid end to end in one buffer that is never freed, the way
/// a fetch buffer holds them, so ingest batches can borrow the bytes for as long as they like.
final class Corpus: @unchecked Sendable {
    static let shared = Corpus(count: records)

    let bytes: UnsafeRawBufferPointer
    /// `ends[i]` is where record `i` ends in `bytes` (and `i + 1` starts).
    let ends: [Int]
    /// The first `batchRecords` records as a sink would read them from the spool.
    let recordBatch: RecordBatch

    var count: Int { ends.count }
    var byteCount: Int { bytes.count }

    init(count: Int) {
        var all: [UInt8] = []
        var ends: [Int] = []
        all.reserveCapacity(count * 330)
        ends.reserveCapacity(count)
        var batch = RecordBatch(topics: ["logs"])
        for index in 0..<count {
            let value = SyntheticLogs.record(index)
            all.append(contentsOf: value)
            ends.append(all.count)
            if index < batchRecords {
                let start = batch.bytes.count
                batch.bytes.append(contentsOf: value)
                batch.records.append(
                    .init(
                        sequence: UInt64(index), topicIndex: 0, partition: 0, offset: Int64(index),
                        timestampMs: 1_795_000_000_000, key: nil, value: start..<batch.bytes.count))
            }
        }
        batch.nextSequence = UInt64(batch.count)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: all.count, alignment: 16)
        all.withUnsafeBytes { buffer.copyMemory(from: $0) }
        self.bytes = UnsafeRawBufferPointer(buffer)
        self.ends = ends
        self.recordBatch = batch
    }

    func value(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]])
    }

    /// Records `range` as one fetched batch: round robin over 8 partitions, offsets increasing per
    /// partition, the bytes borrowed from the corpus (so `release` has nothing to free).
    func ingestBatch(_ range: Range<Int>) -> IngestBatch {
        let partitions = 8
        let ingest = range.map { index in
            IngestRecord(
                topicIndex: 0, partition: Int32(index % partitions), offset: Int64(index / partitions),
                timestampMs: 1_795_000_000_000 + Int64(index) * 3, key: nil, value: value(index))
        }
        return IngestBatch(topics: ["logs"], records: ingest, release: {})
    }

    func report(records: Int, bytes: Int, elapsed: Duration, to benchmark: Benchmark) {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard seconds > 0 else { return }
        benchmark.measurement(recordsPerSecond, Int((Double(records) / seconds).rounded()))
        benchmark.measurement(megabytesPerSecond, Int((Double(bytes) / 1e6 / seconds).rounded()))
    }
}

/// A fresh directory under `$TMPDIR` (default /tmp), removed by `remove()`.
struct BenchDirectory {
    let path: String

    init(_ prefix: String) throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/logbridge-bench-\(prefix)-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base])
        }
        path = String(cString: made)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
