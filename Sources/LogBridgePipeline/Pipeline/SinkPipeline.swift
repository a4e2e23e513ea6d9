import LogBridgeCore

/// The pipeline one sink's records go through: the shared processors, then the sink's own, then
/// the sink's share of `route`. Runs on the sink runner's reader thread, between the spool and
/// the sink's encoder; each runner owns one instance.
///
/// Counting (redactions, `metrics`, drops) follows the data, not the work: a window read again
/// (a held CRI tail, a batch re-sent after a failed confirmation) is not counted twice, and the
/// shared pipeline's metrics and redactions are counted by one runner only (`countsShared`), so
/// an event is counted once however many sinks it goes to.
public final class SinkPipeline: @unchecked Sendable {
    // @unchecked: processors own mutable scratch; a runner calls `process` from its single
    // reader thread only (the dry run from its one task).

    /// What leaves the pipeline for one window of records.
    public struct Output: Sendable {
        /// The events to deliver, as records (same sequence, partition and offset as the record
        /// that carried each one); `nextSequence` is where the cursor may move.
        public var batch: RecordBatch
        /// Events dropped by `filter`/`drop` or routed to other sinks.
        public var discarded: Int
        /// Records at the end of the window were held back (a line still waiting for its end).
        public var held: Bool
        /// Per input line (dry run): the pipeline error the event was marked with, by record index.
        public var failures: [(recordIndex: Int, message: String)]
    }

    public let sinkName: String
    private let sinkIndex: Int?
    private var reassembler: CRIReassembler?
    private let shared: [any EventProcessor]
    private let own: [any EventProcessor]
    /// The `redact` processors, and whether this instance counts their replacements.
    private let redactors: [(processor: RedactProcessor, counted: Bool)]
    private let countsShared: Bool
    private let metrics: PipelineMetrics
    private let event = Event()
    private let context = ProcessingContext()
    private var countedThrough: UInt64 = 0
    private var heldAt: (sequence: UInt64, since: ContinuousClock.Instant)?
    private var outputBytes: [UInt8] = []
    /// Finds each record's own event time before the processors run (`source.event_time_fields`).
    private var eventTime: EventTimeResolver
    public let eventTimeFields: EventTimeFields
    private let stampsEventTime: Bool
    /// The sink finds the event times itself when its records need nothing else
    /// (``RecordBatch/pendingEventTime``): its encoder notes the fields in the pass that
    /// validates each record, and the separate scan here is saved.
    private let sinkResolvesEventTime: Bool

    /// - Parameters:
    ///   - sinkIndex: this sink's position in `sinkNames` (for routes); nil in a dry run without `--sink`.
    ///   - countsShared: this instance counts the shared pipeline's metrics and redactions.
    ///   - eventTime: the record fields that give the event time; the `cri` and `timestamp`
    ///     processors override what they find.
    ///   - sinkResolvesEventTime: the sink's `resolvesEventTime`: without processors, batches go
    ///     out with their event times pending instead of stamped here.
    /// - Throws: ``PipelineError`` naming the processor (`pipeline[2] (regex): …`).
    public init(
        shared: PipelineConfiguration, own: PipelineConfiguration, sinkName: String, sinkIndex: Int?, sinkNames: [String],
        metrics: PipelineMetrics, countsShared: Bool, eventTime: EventTimeFields = .default, sinkResolvesEventTime: Bool = false
    ) throws(PipelineError) {
        self.eventTime = eventTime.makeResolver()
        eventTimeFields = eventTime
        stampsEventTime = !eventTime.names.isEmpty
        self.sinkResolvesEventTime = sinkResolvesEventTime
        self.sinkName = sinkName
        self.sinkIndex = sinkIndex
        self.countsShared = countsShared
        self.metrics = metrics
        var sharedProcessors = shared.processors
        if case .cri(let options) = sharedProcessors.first {
            reassembler = CRIReassembler(options)
            sharedProcessors.removeFirst()
        } else {
            reassembler = nil
        }
        let sharedFactory = ProcessorFactory(sinkNames: sinkNames, metrics: metrics, recordsMetrics: countsShared)
        let ownFactory = ProcessorFactory(sinkNames: sinkNames, metrics: metrics, recordsMetrics: true)
        self.shared = try Self.build(sharedProcessors, factory: sharedFactory, label: "pipeline", offset: reassembler == nil ? 0 : 1)
        self.own = try Self.build(own.processors, factory: ownFactory, label: "sinks.\(sinkName).pipeline", offset: 0)
        redactors = self.shared.compactMap { ($0 as? RedactProcessor).map { ($0, countsShared) } }
            + self.own.compactMap { ($0 as? RedactProcessor).map { ($0, true) } }
    }

    private static func build(
        _ configurations: [ProcessorConfiguration], factory: ProcessorFactory, label: String, offset: Int
    ) throws(PipelineError) -> [any EventProcessor] {
        var processors: [any EventProcessor] = []
        for (i, configuration) in configurations.enumerated() {
            do {
                processors.append(try factory.make(configuration))
            } catch {
                throw PipelineError("\(label)[\(i + offset)] (\(configuration.typeName)): \(error.message)")
            }
        }
        return processors
    }

    /// True when there is nothing to do: the runner then skips the pipeline entirely.
    public var isEmpty: Bool { !hasProcessors && !stampsEventTime }

    private var hasProcessors: Bool { reassembler != nil || !shared.isEmpty || !own.isEmpty }

    /// How long a CRI fragment may wait for the rest of its line; nil without `cri`.
    public var flushTimeout: Duration? { reassembler?.options.flushTimeout }

    /// Runs the pipeline over a window of records read from the spool.
    /// - Parameters:
    ///   - flush: send partial lines now (the window is full, the gateway is draining, or the
    ///     rest of a line did not come within the flush timeout).
    ///   - replay: the window was processed before (a re-send): same output, nothing counted,
    ///     hold timers untouched.
    public func process(_ batch: RecordBatch, flush: Bool = false, replay: Bool = false, now: ContinuousClock.Instant = .now) -> Output {
        var output = run(batch, flush: flush, replay: replay)
        if !replay, output.held {
            let cut = output.batch.nextSequence
            if let heldAt, heldAt.sequence == cut, let timeout = flushTimeout, now - heldAt.since >= timeout {
                self.heldAt = nil
                output = run(batch, flush: true, replay: false)
            } else if heldAt?.sequence != cut {
                heldAt = (cut, now)
            }
        } else if !replay {
            heldAt = nil
        }
        if !replay { countedThrough = max(countedThrough, output.batch.nextSequence) }
        return output
    }

    private func run(_ batch: RecordBatch, flush: Bool, replay: Bool) -> Output {
        if !hasProcessors {
            // Only the event time to find: the records' bytes go out as they are, with their
            // times found here or, by a sink that can, in its own pass over each record.
            var stamped = batch
            if sinkResolvesEventTime, stampsEventTime {
                stamped.pendingEventTime = eventTimeFields
            } else {
                eventTime.stamp(&stamped)
            }
            return Output(batch: stamped, discarded: 0, held: false, failures: [])
        }
        var emitted: [CRIReassembler.Emitted]
        var cut = batch.nextSequence
        if reassembler != nil {
            (emitted, cut) = reassembler!.run(batch, flush: flush)
        } else {
            emitted = batch.records.indices.map { CRIReassembler.Emitted(recordIndex: $0, isCRI: false) }
        }
        outputBytes.removeAll(keepingCapacity: true)
        outputBytes.reserveCapacity(batch.bytes.count + batch.bytes.count / 8)
        var records: [RecordBatch.Record] = []
        records.reserveCapacity(emitted.count)
        var filtered = 0
        var routedAway = 0
        var failures: [(Int, String)] = []
        let ownBit: UInt64 = sinkIndex.map { $0 < 64 ? 1 << UInt64($0) : 0 } ?? 0
        batch.bytes.withUnsafeBytes { bytes in
            for item in emitted {
                let record = batch.records[item.recordIndex]
                let value = UnsafeRawBufferPointer(rebasing: bytes[record.value])
                let recordTime = stampsEventTime ? eventTime.resolve(value) : nil
                event.load(value, timeNanos: recordTime ?? (record.timestampMs >= 0 ? record.timestampMs &* 1_000_000 : -1))
                event.loadMetadata(KafkaRecordMetadata(record, of: batch, bytes: bytes))
                let counting = !replay && record.sequence >= countedThrough
                reassembler?.apply(item, to: event)
                context.counting = counting && countsShared
                for processor in shared where !event.isDropped { processor.process(event, context) }
                context.counting = counting
                for processor in own where !event.isDropped { processor.process(event, context) }
                if let failure = event.failure { failures.append((item.recordIndex, failure)) }
                if event.isDropped {
                    if counting { filtered += 1 }
                    continue
                }
                if sinkIndex != nil, event.routes & ownBit == 0 {
                    if counting { routedAway += 1 }
                    continue
                }
                var out = record
                if let key = record.key {
                    let start = outputBytes.count
                    outputBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[key]))
                    out.key = start..<outputBytes.count
                }
                if let headers = record.headers {
                    let start = outputBytes.count
                    outputBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[headers]))
                    out.headers = start..<outputBytes.count
                }
                let start = outputBytes.count
                event.write(to: &outputBytes)
                out.value = start..<outputBytes.count
                if event.timeNanos >= 0 { out.timestampMs = EventTimeResolver.millis(event.timeNanos) }
                records.append(out)
            }
        }
        if !replay { recordCounters(filtered: filtered, routedAway: routedAway) }
        let processed = RecordBatch(topics: batch.topics, bytes: outputBytes, records: records, nextSequence: cut)
        return Output(batch: processed, discarded: filtered + routedAway, held: cut < batch.nextSequence, failures: failures)
    }

    private func recordCounters(filtered: Int, routedAway: Int) {
        for (redact, counted) in redactors {
            let counts = redact.takeCounts()
            let failures = redact.takeFailedClosed()
            guard counted else { continue }
            for (detector, count) in counts {
                metrics.increment(
                    "logbridge_pipeline_redactions_total", help: "Values replaced by redaction, per detector.",
                    labels: [("detector", detector)], by: count)
            }
            for (detector, count) in failures {
                metrics.increment(
                    "logbridge_pipeline_redaction_failed_closed_total",
                    help: "Custom redaction patterns that hit a PCRE2 limit or error, per detector; the value was masked whole.",
                    labels: [("detector", detector)], by: count)
            }
        }
        metrics.increment(
            "logbridge_pipeline_discarded_events_total", help: "Events a sink did not receive because of filter/drop or route.",
            labels: [("sink", sinkName), ("reason", "filter")], by: filtered)
        metrics.increment(
            "logbridge_pipeline_discarded_events_total", help: "Events a sink did not receive because of filter/drop or route.",
            labels: [("sink", sinkName), ("reason", "route")], by: routedAway)
    }
}
