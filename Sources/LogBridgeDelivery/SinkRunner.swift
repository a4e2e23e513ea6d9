import DequeModule
import LogBridgeCore
import LogBridgePipeline
import LogBridgeSinks
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
    /// Every sink's statistics: this runner's heartbeat and its scrape-time collector live there.
    private let sinkTable: SinkStatisticsTable
    private let logger: Logger
    private let reader: DedicatedThread
    private let shuttingDown = Atomic<Bool>(false)
    /// Set by ``stopAfterInFlight()``: a configuration reload replaces this runner.
    private let handover = Handover()
    /// Runs on the reader thread only (it is not safe to share between threads).
    private let pipeline: SinkPipeline?
    /// The gateway's stop deadline; without one, the drain gets `shutdown_timeout` from its start.
    private let stopDeadline: StopDeadline?

    /// - Parameters:
    ///   - pipeline: the processors between the spool and this sink; nil or empty: the records go
    ///     out as they were spooled.
    ///   - stopDeadline: when the whole stop must be over (set as the stop begins, before the
    ///     source leaves the group), so the drain gets what the source left of `shutdown_timeout`.
    public init(
        sink: any Sink, spool: Spool, configuration: SinkRunnerConfiguration, statistics: SinkStatisticsTable,
        logger: Logger, pipeline: SinkPipeline? = nil, stopDeadline: StopDeadline? = nil
    ) {
        self.pipeline = pipeline.flatMap { $0.isEmpty ? nil : $0 }
        self.stopDeadline = stopDeadline
        self.sink = sink
        self.spool = spool
        self.configuration = configuration
        self.statistics = statistics.sink(sink.name)
        self.sinkTable = statistics
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

    /// Stops starting batches and returns from `run()` once those in flight are delivered and
    /// committed, without draining the backlog: the runner that replaces it (a configuration
    /// reload) continues from the committed cursor, so nothing is lost or sent twice.
    public func stopAfterInFlight() {
        handover.request()
    }

    private var stopping: Bool { shuttingDown.load(ordering: .acquiring) || handover.isRequested }

    /// A batch handed to the sink: what the runner needs to commit it, without its bytes (which
    /// only the delivering task holds, and drops while it waits for a confirmation).
    private struct InFlight {
        var nextSequence: UInt64
        /// Records read from the spool for the batch (before the pipeline dropped or joined any).
        var readCount: Int
        var count: Int
        var valueBytes: Int
        var finished: OnceFlag
        var task: Task<SinkDelivery, any Error>
    }

    /// Hands a batch to the delivering task once, so nothing else keeps its bytes alive.
    private final class BatchBox: @unchecked Sendable {
        private let batch: Mutex<RecordBatch?>
        init(_ batch: RecordBatch) { self.batch = Mutex(batch) }
        func take() -> RecordBatch? { batch.withLock { value in defer { value = nil }; return value } }
    }

    private func deliverLoop() async throws {
        let checkpoint = spool.checkpoint(sink: sink.name)
        try await sink.open(restoring: checkpoint)
        var committed = checkpoint.nextSequence
        var readCursor = committed
        var shutdownDeadline: ContinuousClock.Instant?
        /// A batch ended undelivered on a handover: nothing after it may be committed.
        var handedOverUndelivered = false
        // Batches in flight, oldest first: they may finish in any order, but cursors are committed
        // in spool order, so a crash never skips an undelivered batch. `permits` bounds the batches
        // being sent (and so the bytes in memory); the window also holds batches that only wait for
        // the destination's confirmation.
        var inFlight: Deque<InFlight> = []
        let permits = sink.sendPermits ?? AsyncPermits(limit: configuration.concurrency)
        let window = configuration.concurrency + configuration.maxPendingConfirmations
        let events = SequenceSignal(next: 0)
        defer { for entry in inFlight { entry.task.cancel() } }
        let heartbeat = sinkTable.heartbeat("sink:\(sink.name)")
        let collectorKey = "sink:\(sink.name)"
        let (sink, statistics) = (self.sink, self.statistics)
        sinkTable.addCollector(collectorKey) {
            statistics.concurrencyLimit.set(permits.limit)
            for (endpoint, healthy) in sink.endpointHealth { statistics.setEndpoint(endpoint, up: healthy) }
            let faults = Dictionary(sink.endpointFaults.map { ($0.endpoint, $0.fault.kind.rawValue) }) { first, _ in first }
            for (endpoint, _) in sink.endpointHealth { statistics.setEndpointFault(endpoint, fault: faults[endpoint]) }
        }
        defer {
            heartbeat.stop()
            sinkTable.removeCollector(collectorKey)
        }
        logger.info("sink started", metadata: [LogKey.sequence: "\(committed)", "concurrency": "\(configuration.concurrency)"])

        while !Task.isCancelled {
            heartbeat.beat()
            let observed = events.next
            // Commit what finished at the head of the window, in spool order.
            while !handedOverUndelivered, let head = inFlight.first, head.finished.isSet {
                inFlight.removeFirst()
                let delivery: SinkDelivery
                do {
                    delivery = try await head.task.value
                } catch is HandedOver {
                    // Not delivered: the next runner sends it again from `committed`, and with it
                    // every batch after it (cursors commit in spool order).
                    handedOverUndelivered = true
                    break
                }
                try await commit(SinkCheckpoint(nextSequence: head.nextSequence, state: delivery.state), deadLetters: delivery.deadLetters)
                committed = head.nextSequence
                await sink.committed(through: committed)
                record(delivery, count: head.count, valueBytes: head.valueBytes)
            }
            // A backlog limit (`sinks.NAME.backlog.when_full: skip_oldest`) may have moved the
            // cursor past records not read yet: they are skipped, never sent. Batches already in
            // flight are still delivered (and counted as delivered, not skipped).
            let floor = spool.checkpoint(sink: sink.name).nextSequence
            if floor > readCursor {
                statistics.skipped.add(Int(floor - readCursor))
                readCursor = floor
            }
            if handover.isRequested {
                if handedOverUndelivered { inFlight.removeAll { $0.finished.isSet } }
                if inFlight.isEmpty {
                    if handedOverUndelivered {
                        logger.info(
                            "batches waiting to retry were handed over to the reloaded configuration",
                            metadata: [LogKey.sequence: "\(committed)"])
                    }
                    break
                }
                await waitForProgress(events, after: observed, records: nil, timeout: .milliseconds(100))
                continue
            }
            let draining = shuttingDown.load(ordering: .acquiring)
            if draining {
                let deadline = shutdownDeadline ?? stopDeadline?.instant ?? .now + configuration.shutdownTimeout
                shutdownDeadline = deadline
                if max(committed, floor) >= spool.nextSequence && inFlight.isEmpty { break }
                if ContinuousClock.now >= deadline {
                    logger.warning(
                        "shutdown timeout reached before the sink caught up; the rest stays spooled",
                        metadata: [LogKey.records: "\(spool.nextSequence - committed)"])
                    break
                }
            }
            // Start the next batch when the window has room.
            if inFlight.count < window, permits.tryAcquire() {
                let read: ReadWindow
                do {
                    read = try await readBatch(from: readCursor, allowWaiting: inFlight.isEmpty && !draining, draining: draining)
                } catch {
                    permits.release()
                    throw error
                }
                let batch = read.batch
                if batch.nextSequence > readCursor {
                    let first = readCursor
                    readCursor = batch.nextSequence
                    let finished = OnceFlag()
                    let box = BatchBox(batch)
                    let readCount = read.readCount
                    let handover = self.handover
                    let task = Task {
                        defer {
                            finished.set()
                            events.advance()
                        }
                        return try await Handover.$current.withValue(handover) {
                            try await self.deliverUntilConfirmed(box, first: first, readCount: readCount, permits: permits, events: events)
                        }
                    }
                    inFlight.append(InFlight(
                        nextSequence: batch.nextSequence, readCount: read.readCount, count: batch.count,
                        valueBytes: batch.records.reduce(0) { $0 + $1.value.count }, finished: finished, task: task))
                    continue
                }
                permits.release()
                if read.heldUntil > readCursor {
                    // Every record read waits for the rest of a line: wait for more records, or
                    // for the pipeline's flush timeout, before reading the window again.
                    await waitForRecords(from: read.heldUntil, timeout: .milliseconds(500))
                    continue
                }
            }
            // Wait for a batch to finish or be sent, for new records if one could start, or for
            // the shutdown check.
            let canStart = inFlight.count < window && permits.available > 0
            await waitForProgress(events, after: observed, records: canStart ? readCursor : nil, timeout: .seconds(1))
        }
        logger.info("sink stopped", metadata: [LogKey.sequence: "\(committed)"])
    }

    private func record(_ delivery: SinkDelivery, count: Int, valueBytes: Int) {
        let rejected = delivery.deadLetters.count
        statistics.delivered.add(count - rejected)
        statistics.deadLettered.add(rejected)
        statistics.deliveredBytes.add(valueBytes)
        statistics.batches.add(1)
        statistics.batchRecords.record(Double(count))
        if rejected > 0 {
            logger.warning("records rejected by the destination went to the dead-letter store", metadata: [LogKey.records: "\(rejected)"])
        }
    }

    /// Delivers a batch, holding a permit while it is being sent; if the sink returns a
    /// confirmation, waits for it without the bytes, and sends the same records again (read back
    /// from the spool) when it fails.
    private func deliverUntilConfirmed(
        _ box: BatchBox, first: UInt64, readCount: Int, permits: AsyncPermits, events: SequenceSignal
    ) async throws -> SinkDelivery {
        guard var batch = box.take() else { preconditionFailure("a batch is delivered once") }
        var holdsPermit = true
        defer { if holdsPermit { permits.release() } }
        let count = batch.count
        let nextSequence = batch.nextSequence
        while true {
            // Everything was filtered out: nothing to send, the cursor still moves.
            if batch.isEmpty { return SinkDelivery() }
            let delivery = try await deliverWithRetry(batch, to: sink)
            permits.release()
            holdsPermit = false
            events.advance()
            guard let confirmation = delivery.confirmation else { return delivery }
            batch = RecordBatch()
            if await confirmation.wait() {
                return SinkDelivery(state: delivery.state, deadLetters: delivery.deadLetters)
            }
            try Task.checkCancellation()
            statistics.failures.add(1)
            statistics.retried.add(count)
            logger.warning(
                "the destination did not confirm a batch in time; sending it again",
                metadata: [LogKey.sequence: "\(first)", LogKey.records: "\(count)"])
            try await permits.acquire()
            holdsPermit = true
            let spool = self.spool
            let name = sink.name
            let pipeline = self.pipeline
            let statistics = self.statistics
            batch = try await reader.run {
                var (again, gap) = try spool.readCountingGap(from: first, maxRecords: readCount, maxBytes: .max, for: name)
                // Records a backlog limit skipped meanwhile are gone from the spool: not resent.
                statistics.skipped.add(Int(min(gap, nextSequence - first)))
                again.records.removeAll { $0.sequence >= nextSequence }
                again.nextSequence = nextSequence
                guard let pipeline else { return again }
                // The same window, processed the same way: a held tail was cut off before, so
                // whatever is left is complete; nothing is counted twice.
                return pipeline.process(again, flush: true, replay: true).batch
            }
        }
    }

    private func waitForProgress(_ events: SequenceSignal, after observed: UInt64, records: UInt64?, timeout: Duration) async {
        let spool = self.spool
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await events.wait(forSequence: observed) }
            if let records { group.addTask { await spool.waitForRecords(from: records) } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// A window read from the spool and passed through the pipeline.
    private struct ReadWindow {
        var batch: RecordBatch
        var readCount: Int
        /// When the pipeline held records back and emitted nothing: the end of what was read.
        var heldUntil: UInt64
    }

    /// Reads the next batch; with `allowWaiting`, a partial batch may wait up to `interval` to fill.
    private func readBatch(from cursor: UInt64, allowWaiting: Bool, draining: Bool) async throws -> ReadWindow {
        let spool = self.spool
        let name = sink.name
        let (maxRecords, maxBytes) = (configuration.batchSize, configuration.maxBatchBytes)
        var (batch, gap) = try await reader.run {
            try spool.readCountingGap(from: cursor, maxRecords: maxRecords, maxBytes: maxBytes, for: name)
        }
        let partial = batch.count < configuration.batchSize && batch.bytes.count < configuration.maxBatchBytes
        if partial, !batch.isEmpty, allowWaiting, configuration.interval > .zero, !stopping {
            (batch, gap) = try await fillPartialBatch(batch, from: cursor)
        }
        // Records missing from where this sink reads were skipped by its backlog limit.
        statistics.skipped.add(Int(gap))
        guard let pipeline else { return ReadWindow(batch: batch, readCount: batch.count, heldUntil: 0) }
        // A full window must make progress even if it is all one unfinished line.
        let full = batch.count >= maxRecords || batch.bytes.count >= maxBytes
        let flush = full || draining || shuttingDown.load(ordering: .acquiring)
        let raw = batch
        let output = try await reader.run { pipeline.process(raw, flush: flush) }
        if output.discarded > 0 { statistics.discarded.add(output.discarded) }
        let stalled = output.held && output.batch.nextSequence <= cursor
        return ReadWindow(batch: output.batch, readCount: raw.count, heldUntil: stalled ? raw.nextSequence : 0)
    }

    /// Waits up to `interval` for a partial batch to fill, then reads it again.
    private func fillPartialBatch(_ batch: RecordBatch, from: UInt64) async throws -> (batch: RecordBatch, gap: UInt64) {
        let deadline = ContinuousClock.now + configuration.interval
        let spool = self.spool
        let (maxRecords, maxBytes) = (configuration.batchSize, configuration.maxBatchBytes)
        let name = sink.name
        while ContinuousClock.now < deadline, !stopping,
            spool.nextSequence < from + UInt64(maxRecords)
        {
            // In slices, so a shutdown or a reload does not wait for the whole interval, and the
            // loop's heartbeat stays fresh through a long `interval` (HEC's 30 s).
            sinkTable.heartbeat("sink:\(name)").beat()
            await waitForRecords(from: spool.nextSequence, timeout: min(deadline - .now, .milliseconds(500)))
        }
        return try await reader.run { try spool.readCountingGap(from: from, maxRecords: maxRecords, maxBytes: maxBytes, for: name) }
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
                // Failed (or given up between attempts) while a reload replaces this runner: the
                // next runner sends the batch with the new settings.
                if handover.isRequested { throw HandedOver() }
                attempt += 1
                statistics.failures.add(1)
                statistics.retried.add(batch.count)
                logger.warning(
                    "delivery failed; retrying",
                    metadata: [LogKey.error: "\(error.message)", "attempt": "\(attempt)", "retry_in": "\(backoff)"])
                try await Handover.waitBetweenAttempts(jittered(backoff))
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
