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
        do {
            try await withGracefulShutdownHandler {
                try await deliverLoop()
            } onGracefulShutdown: {
                self.shuttingDown.store(true, ordering: .releasing)
            }
        } catch {
            // Cancelled or failed: the sink still releases its connections and files.
            await sink.close()
            throw error
        }
        await sink.close()
    }

    private func deliverLoop() async throws {
        let checkpoint = spool.checkpoint(sink: sink.name)
        try await sink.open(restoring: checkpoint)
        var committed = checkpoint.nextSequence
        var readCursor = committed
        var shutdownDeadline: ContinuousClock.Instant?
        // Batches in flight, oldest first: they may finish in any order, but cursors are committed
        // in spool order, so a crash never skips an undelivered batch.
        var inFlight: [(batch: RecordBatch, task: Task<SinkDelivery, any Error>)] = []
        defer { for entry in inFlight { entry.task.cancel() } }
        logger.info("sink started", metadata: [LogKey.sequence: "\(committed)", "concurrency": "\(configuration.concurrency)"])

        while !Task.isCancelled {
            let draining = shuttingDown.load(ordering: .acquiring)
            if draining {
                let deadline = shutdownDeadline ?? .now + configuration.shutdownTimeout
                shutdownDeadline = deadline
                if committed >= spool.nextSequence && inFlight.isEmpty { break }
                if ContinuousClock.now >= deadline {
                    logger.warning(
                        "shutdown timeout reached before the sink caught up; the rest stays spooled",
                        metadata: [LogKey.records: "\(spool.nextSequence - committed)"])
                    break
                }
            }
            // Fill the window.
            if inFlight.count < configuration.concurrency {
                let batch = try await readBatch(from: readCursor, allowWaiting: inFlight.isEmpty && !draining)
                if batch.nextSequence > readCursor {
                    readCursor = batch.nextSequence
                    let sink = self.sink
                    let task = Task { try await self.deliverWithRetry(batch, to: sink) }
                    inFlight.append((batch, task))
                    if inFlight.count < configuration.concurrency { continue }
                } else if inFlight.isEmpty {
                    await waitForRecords(from: readCursor, timeout: .seconds(1))
                    continue
                }
            }
            // Complete the oldest.
            let (batch, task) = inFlight.removeFirst()
            let delivery = try await task.value
            try await commit(SinkCheckpoint(nextSequence: batch.nextSequence, state: delivery.state), deadLetters: delivery.deadLetters)
            committed = batch.nextSequence
            let rejected = delivery.deadLetters.count
            statistics.delivered.add(batch.count - rejected)
            statistics.deadLettered.add(rejected)
            statistics.deliveredBytes.add(batch.records.reduce(0) { $0 + $1.value.count })
            statistics.batches.add(1)
            if rejected > 0 {
                logger.warning("records rejected by the destination went to the dead-letter store", metadata: [LogKey.records: "\(rejected)"])
            }
        }
        logger.info("sink stopped", metadata: [LogKey.sequence: "\(committed)"])
    }

    /// Reads the next batch; with `allowWaiting`, a partial batch may wait up to `interval` to fill.
    private func readBatch(from cursor: UInt64, allowWaiting: Bool) async throws -> RecordBatch {
        let spool = self.spool
        let (maxRecords, maxBytes) = (configuration.batchSize, configuration.maxBatchBytes)
        let batch = try await reader.run { try spool.read(from: cursor, maxRecords: maxRecords, maxBytes: maxBytes) }
        let partial = batch.count < configuration.batchSize && batch.bytes.count < configuration.maxBatchBytes
        if partial, !batch.isEmpty, allowWaiting, configuration.interval > .zero, !shuttingDown.load(ordering: .acquiring) {
            return try await fillPartialBatch(batch, from: cursor)
        }
        return batch
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

    private func deliverWithRetry(_ batch: RecordBatch, to sink: any Sink) async throws -> SinkDelivery {
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

    private func commit(_ checkpoint: SinkCheckpoint, deadLetters: [DeadLetter]) async throws {
        var backoff = configuration.initialBackoff
        while true {
            do {
                try await spool.commit(sink: sink.name, checkpoint: checkpoint, deadLetters: deadLetters)
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
