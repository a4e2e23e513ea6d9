import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeMockCluster
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool
import Logging
import ServiceLifecycle

/// `logbridge demo`: the gateway on its embedded default. An in-process mock Kafka cluster is
/// seeded with synthetic container logs, consumed through the real consumer-group path into the
/// spool and out to a file sink; the run ends once every record is delivered.
public struct Demo: Sendable {
    public var records: Int
    public var partitions: Int
    public var directory: String

    public init(records: Int = 200_000, partitions: Int = 8, directory: String = "demo-data") {
        self.records = records
        self.partitions = partitions
        self.directory = directory
    }

    /// What the run did, for the summary.
    public struct Summary: Sendable {
        public var seeded: Int
        public var consumed: Int
        public var spooled: Int
        public var delivered: Int
        public var seedSeconds: Double
        /// Seconds from start until every record was delivered (shutdown not included).
        public var elapsedSeconds: Double
        public var spoolSeconds: Double
        /// Seconds until the first record arrived (consumer-group join and assignment).
        public var firstRecordSeconds: Double
        public var outputPath: String
        public var outputBytes: Int
        /// Values the embedded redaction replaced, per detector.
        public var redactions: [(detector: String, count: Int)]
    }

    /// The embedded default configuration, pointed at a mock cluster.
    public func configuration(bootstrap: String) -> LogBridgeConfiguration {
        LogBridgeConfiguration(
            source: KafkaSourceConfiguration(brokers: [bootstrap], topics: ["logs"], groupID: "logbridge-demo"),
            spool: SpoolConfiguration(path: "\(directory)/spool", maxBytes: 1 << 30),
            // Every built-in detector, masking: the records carry e-mails, cards, IPs and phones.
            pipeline: PipelineConfiguration([.redact(RedactOptions())]),
            sinks: [
                SinkConfiguration(
                    name: "archive", kind: FileSinkConfiguration(path: "\(directory)/events.ndjson"),
                    runner: SinkRunnerConfiguration(batchSize: 10_000, maxBatchBytes: 4 << 20))
            ],
            admin: AdminConfiguration(listen: "off"),
            shutdownTimeout: .seconds(10))
    }

    public func run(logger: Logger) async throws -> Summary {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        let seedStart = ContinuousClock.now
        let cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopic("logs", partitions: partitions)
        try cluster.produce(topic: "logs", count: records, partitions: partitions) { SyntheticLogs.record($0) }
        let retained = try cluster.retainedRecords(topic: "logs", partitions: partitions).reduce(0, +)
        guard retained == records else {
            throw DemoError.mockDroppedRecords(
                seeded: records, retained: retained,
                partitionsNeeded: MockKafkaCluster.partitionsNeeded(records: records))
        }
        let seedSeconds = (ContinuousClock.now - seedStart).secondsDouble
        logger.info("mock cluster seeded", metadata: ["records": "\(records)", "bootstrap": "\(cluster.bootstrapServers)"])

        let configuration = configuration(bootstrap: cluster.bootstrapServers)
        let gateway = try buildGateway(configuration: configuration, logger: logger)
        let start = ContinuousClock.now
        let target = records
        let statistics = gateway.statistics
        let spooledAt = SpooledClock()
        let firstRecordAt = SpooledClock()
        let deliveredAt = SpooledClock()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await gateway.serviceGroup.run() }
            group.addTask {
                var lastProgress = (count: -1, at: ContinuousClock.now)
                while statistics.sink("archive").delivered.value < target {
                    let delivered = statistics.sink("archive").delivered.value
                    if delivered != lastProgress.count {
                        lastProgress = (delivered, .now)
                    } else if ContinuousClock.now - lastProgress.at > .seconds(60) {
                        await gateway.serviceGroup.triggerGracefulShutdown()
                        throw DemoError.stalled(delivered: delivered, expected: target)
                    }
                    if firstRecordAt.seconds == nil, statistics.source.consumed.value > 0 {
                        firstRecordAt.set((ContinuousClock.now - start).secondsDouble)
                    }
                    if spooledAt.seconds == nil, statistics.spool.spooled.value >= target {
                        spooledAt.set((ContinuousClock.now - start).secondsDouble)
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                if spooledAt.seconds == nil { spooledAt.set((ContinuousClock.now - start).secondsDouble) }
                deliveredAt.set((ContinuousClock.now - start).secondsDouble)
                await gateway.serviceGroup.triggerGracefulShutdown()
            }
            try await group.waitForAll()
        }
        let elapsed = deliveredAt.seconds ?? (ContinuousClock.now - start).secondsDouble
        let outputPath = "\(directory)/events.ndjson"
        let size = (try? FileManager.default.attributesOfItem(atPath: outputPath)[.size] as? Int) ?? 0
        _ = cluster
        return Summary(
            seeded: records, consumed: statistics.source.consumed.value, spooled: statistics.spool.spooled.value,
            delivered: statistics.sink("archive").delivered.value, seedSeconds: seedSeconds, elapsedSeconds: elapsed,
            spoolSeconds: spooledAt.seconds ?? elapsed, firstRecordSeconds: firstRecordAt.seconds ?? 0, outputPath: outputPath, outputBytes: size,
            redactions: gateway.pipelineMetrics.series("logbridge_pipeline_redactions_total").map { ($0.labels.first ?? "", Int($0.value)) })
    }
}

/// A moment of the run, set once from the monitoring task and read at the end.
private final class SpooledClock: @unchecked Sendable {
    // `@unchecked Sendable`: guarded by `lock`.
    private let lock = NSLock()
    private var value: Double?
    var seconds: Double? { lock.withLock { value } }
    func set(_ seconds: Double) { lock.withLock { value = seconds } }
}

/// Why a demo run could not show what it should.
public enum DemoError: Error, CustomStringConvertible {
    case mockDroppedRecords(seeded: Int, retained: Int, partitionsNeeded: Int)
    case stalled(delivered: Int, expected: Int)

    public var description: String {
        switch self {
        case .mockDroppedRecords(let seeded, let retained, let needed):
            return "the mock cluster kept only \(retained) of \(seeded) records (it holds a few MB per partition); use --partitions \(needed) or more"
        case .stalled(let delivered, let expected):
            return "no progress for 60 s after \(delivered) of \(expected) records; see the log above"
        }
    }
}
