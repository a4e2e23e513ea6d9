import Synchronization

/// A monotonically increasing counter that any thread may bump.
public final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    public init() {}
    @inlinable public func add(_ n: Int) { if n != 0 { _add(n) } }
    @usableFromInline func _add(_ n: Int) { storage.wrappingAdd(n, ordering: .relaxed) }
    public var value: Int { storage.load(ordering: .relaxed) }
}

/// A value that can go up and down (spool bytes, paused partitions).
public final class Gauge: Sendable {
    private let storage = Atomic<Int>(0)
    public init() {}
    public func set(_ n: Int) { storage.store(n, ordering: .relaxed) }
    public var value: Int { storage.load(ordering: .relaxed) }
}

/// Counters every stage updates, shared by the gateway, the demo summary and (later) `/metrics`.
///
/// Names follow the stage they count: source, spool, sinks.
public final class GatewayStatistics: Sendable {
    /// Records received from Kafka (including tombstones and oversize ones).
    public let consumed = Counter()
    /// Payload bytes received from Kafka.
    public let consumedBytes = Counter()
    /// Tombstones (null values) and empty values, counted and skipped.
    public let skippedEmpty = Counter()
    /// Values over the size limit, sent to the dead-letter store.
    public let oversize = Counter()
    /// Records fetched again that the spool already held (re-delivery after a rebalance or restart).
    public let duplicatesSkipped = Counter()
    /// Records written to the spool.
    public let spooled = Counter()
    public let spoolTransactions = Counter()
    public let spoolBytes = Gauge()
    public let spoolRecords = Gauge()
    /// Number of assigned partitions currently paused because the spool is full.
    public let pausedPartitions = Gauge()
    public let rebalances = Counter()

    private let sinkCounters: Mutex<[String: SinkStatistics]> = Mutex([:])

    public init() {}

    /// The counters of one sink, created on first use.
    public func sink(_ name: String) -> SinkStatistics {
        sinkCounters.withLock { table in
            if let existing = table[name] { return existing }
            let created = SinkStatistics()
            table[name] = created
            return created
        }
    }

    public var sinkNames: [String] { sinkCounters.withLock { Array($0.keys).sorted() } }
}

/// Counters of one sink.
public final class SinkStatistics: Sendable {
    public let delivered = Counter()
    public let deliveredBytes = Counter()
    public let batches = Counter()
    public let failures = Counter()
    /// Records the destination rejected for good, stored in the dead-letter store.
    public let deadLettered = Counter()
    /// Events the pipeline did not send to this sink (`filter`, `drop`, `route`).
    public let discarded = Counter()
    public init() {}
}
