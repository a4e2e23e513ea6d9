import LogBridgeCore

/// A destination for spooled records.
///
/// The ``SinkRunner`` reads batches from the spool in order and hands them to `deliver`; only when
/// `deliver` returns does the sink's cursor move past the batch, in the same spool transaction as
/// the state `deliver` returned. A sink that can make its own writes idempotent (the file sink
/// truncates back to the committed length) is therefore exactly-once; the others are
/// at-least-once, with duplicates bounded by the batches in flight at a crash.
public protocol Sink: Sendable {
    /// The name from the configuration (`sinks.NAME`), used for its cursor, logs and metrics.
    var name: String { get }

    /// Brings the destination back to the state committed with the cursor (for example, cutting a
    /// file back to the length that was durably delivered). Called once, before the first batch.
    func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError)

    /// Delivers a batch durably: every record is either confirmed by the destination or returned
    /// as a dead letter (permanently rejected, with the reason).
    /// - Returns: the sink's state and dead letters, committed with the cursor in one spool
    ///   transaction, so a crash never loses a rejection or records it twice.
    /// - Throws: ``SinkError``; the runner retries the whole batch with backoff, it is never skipped.
    func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery

    /// Permits the runner takes for each batch it sends, when the sink sets its own concurrency
    /// (`concurrency: adaptive`); nil: a fixed `concurrency`.
    var sendPermits: AsyncPermits? { get }

    /// The runner durably moved the cursor to `nextSequence`: state kept for earlier records can
    /// go. Optional.
    func committed(through nextSequence: UInt64) async

    /// Releases resources; no batch follows.
    func close() async

    /// Each endpoint and whether it is in rotation now (HTTP sinks); empty for sinks without
    /// endpoints. Metrics and `/readyz` read it.
    var endpointHealth: [(endpoint: String, healthy: Bool)] { get }

    /// Each endpoint whose latest request got no answer, and why (HTTP sinks); empty when every
    /// endpoint answers. `/readyz`, metrics and `logbridge status` show it.
    var endpointFaults: [(endpoint: String, fault: EndpointFault)] { get }

    /// Whether `deliver` finds each record's event time itself, in the pass that validates the
    /// record, when the batch says its times are pending (``RecordBatch/pendingEventTime``).
    /// Default false: batches arrive with their event times in `timestampMs`.
    var resolvesEventTime: Bool { get }
}

extension Sink {
    public var sendPermits: AsyncPermits? { nil }

    public func committed(through nextSequence: UInt64) async {}

    public var endpointHealth: [(endpoint: String, healthy: Bool)] { [] }

    public var endpointFaults: [(endpoint: String, fault: EndpointFault)] { [] }

    public var resolvesEventTime: Bool { false }
}

/// What a sink reports for a delivered batch.
public struct SinkDelivery: Sendable {
    /// Opaque state committed with the cursor (the file sink's length); empty for most sinks.
    public var state: [UInt8]
    /// Records the destination rejected for good.
    public var deadLetters: [DeadLetter]
    /// Set when the destination accepted the batch but confirms it later (Splunk HEC indexer
    /// acknowledgements). The runner keeps the cursor behind the batch until it resolves, without
    /// holding the batch's bytes; when it resolves false the runner reads the same records from
    /// the spool and delivers them again.
    public var confirmation: SinkConfirmation?

    public init(state: [UInt8] = [], deadLetters: [DeadLetter] = [], confirmation: SinkConfirmation? = nil) {
        self.state = state
        self.deadLetters = deadLetters
        self.confirmation = confirmation
    }
}

/// A later answer to "is this batch stored for good?".
public struct SinkConfirmation: Sendable {
    /// Returns true once the destination confirms the batch, false when it never will (deadline
    /// passed, or cancelled): the batch must then be sent again.
    public let wait: @Sendable () async -> Bool

    public init(wait: @escaping @Sendable () async -> Bool) {
        self.wait = wait
    }
}

/// Errors a sink reports for a batch.
public struct SinkError: Error, CustomStringConvertible, Sendable {
    public var sink: String
    public var message: String
    /// Retrying later may succeed (I/O, network, 5xx); otherwise the input must be set aside.
    public var isRetriable: Bool

    public init(sink: String, message: String, isRetriable: Bool = true) {
        self.sink = sink
        self.message = message
        self.isRetriable = isRetriable
    }

    public var description: String { "sink \(sink): \(message)" }
}
