import LogBridgeCore
import LogBridgeSpool
import Logging
import ServiceLifecycle
import Synchronization

/// Feeds one sink from the spool: read a batch after the sink's cursor, deliver it (retrying with
/// backoff), then commit the cursor with the sink's state. One runner per sink, so a slow sink
/// never holds back the others; only the spool's capacity links them.
///
/// On graceful shutdown (after the source has stopped) it keeps draining until the sink has
/// caught up with the spool or `shutdownTimeout` has passed.
public final class SinkRunner: Service, Sendable {
    public let sink: any Sink
    private let spool: Spool
    private let configuration: SinkRunnerConfiguration
    private let statistics: SinkStatistics
    private let logger: Logger
    private let reader: DedicatedThread
    private let shuttingDown = Atomic<Bool>(false)

    public init(
        sink: any Sink, spool: Spool, configuration: SinkRunnerConfiguration, statistics: GatewayStatistics,
        logger: Logger
    ) {
        self.sink = sink
        self.spool = spool
        self.configuration = configuration
        self.statistics = statistics.sink(sink.name)
        var logger = logger
        logger[metadataKey: LogKey.sink] = "\(sink.name)"
        self.logger = logger
        reader = DedicatedThread(name: "lb-read-\(sink.name)")
    }

    public func run() async throws {
        defer { reader.shutdown() }
        try await withGracefulShutdownHandler {
            try await deliverLoop()
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .releasing)
        }
        await sink.close()
    }

    private func deliverLoop() async throws {
        let checkpoint = spool.checkpoint(sink: sink.name)
        try await sink.open(restoring: checkpoint)
        var cursor = checkpoint.nextSequence
        var shutdownDeadline: ContinuousClock.Instant?
        logger.info("sink started", metadata: [LogKey.sequence: "\(cursor)"])

        while !Task.isCancelled {
            if shuttingDown.load(ordering: .acquiring) {
                let deadline = shutdownDeadline ?? .now + configuration.shutdownTimeout
                shutdownDeadline = deadline
                if cursor >= spool.nextSequence { break }
                if ContinuousClock.now >= deadline {
                    logger.warning(
                        "shutdown timeout reached before the sink caught up; the rest stays spooled",
                        metadata: [LogKey.records: "\(spool.nextSequence - cursor)"])
                    break
                }
            }
            let from = cursor
            let spool = self.spool
            let (maxRecords, maxBytes) = (configuration.batchSize, configuration.maxBatchBytes)
            var batch = try await reader.run { try spool.read(from: from, maxRecords: maxRecords, maxBytes: maxBytes) }
            if batch.nextSequence == cursor {
                await waitForRecords(from: cursor, timeout: .seconds(1))
                continue
            }
            let partial = batch.count < configuration.batchSize
            if partial, configuration.interval > .zero, !shuttingDown.load(ordering: .acquiring) {
                batch = try await fillPartialBatch(batch, from: from)
            }
            let state = try await deliverWithRetry(batch)
            try await commit(SinkCheckpoint(nextSequence: batch.nextSequence, state: state))
            cursor = batch.nextSequence
            statistics.delivered.add(batch.count)
            statistics.deliveredBytes.add(batch.records.reduce(0) { $0 + $1.value.count })
            statistics.batches.add(1)
        }
        logger.info("sink stopped", metadata: [LogKey.sequence: "\(cursor)"])
    }

    /// Waits up to `interval` for a partial batch to fill, then reads it again.
    private func fillPartialBatch(_ batch: RecordBatch, from: UInt64) async throws -> RecordBatch {
        let deadline = ContinuousClock.now + configuration.interval
        let spool = self.spool
        let (maxRecords, maxBytes) = (configuration.batchSize, configuration.maxBatchBytes)
        while ContinuousClock.now < deadline, !shuttingDown.load(ordering: .acquiring),
            spool.nextSequence < from + UInt64(maxRecords)
        {
            await waitForRecords(from: spool.nextSequence, timeout: deadline - .now)
        }
        return try await reader.run { try spool.read(from: from, maxRecords: maxRecords, maxBytes: maxBytes) }
    }

    private func waitForRecords(from sequence: UInt64, timeout: Duration) async {
        let spool = self.spool
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await spool.waitForRecords(from: sequence) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func deliverWithRetry(_ batch: RecordBatch) async throws -> [UInt8] {
        var backoff = configuration.initialBackoff
        var attempt = 0
        while true {
            do {
                return try await sink.deliver(batch)
            } catch {
                attempt += 1
                statistics.failures.add(1)
                logger.warning(
                    "delivery failed; retrying",
                    metadata: [LogKey.error: "\(error.message)", "attempt": "\(attempt)", "retry_in": "\(backoff)"])
                try await Task.sleep(for: jittered(backoff))
                backoff = min(backoff * 2, configuration.maxBackoff)
            }
        }
    }

    private func commit(_ checkpoint: SinkCheckpoint) async throws {
        var backoff = configuration.initialBackoff
        while true {
            do {
                try await spool.commit(sink: sink.name, checkpoint: checkpoint)
                return
            } catch {
                logger.error("cannot commit the sink cursor; retrying", metadata: [LogKey.error: "\(error)"])
                try await Task.sleep(for: jittered(backoff))
                backoff = min(backoff * 2, configuration.maxBackoff)
            }
        }
    }

    /// Full jitter between half and the whole delay, so retries of many sinks do not line up.
    private func jittered(_ delay: Duration) -> Duration {
        delay * Double.random(in: 0.5...1.0)
    }
}
