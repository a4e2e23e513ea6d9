import LogBridgeCore
import Synchronization

/// The spool's counters and gauges (`logbridge_spool_*`), declared in the registry it is given.
///
/// The spool writer also counts, as it writes, records the source fetched but did not spool
/// (empty, oversize, duplicates); those counters belong to the source and are handed in. Likewise
/// each sink's backlog is measured by the spool but exposed with the sink's series.
public final class SpoolStatistics: Sendable {
    private let registry: any MetricsRegistry
    private let heartbeats: Heartbeats
    private let backlogOf: @Sendable (String) -> SinkBacklogGauges
    /// Records written to the spool.
    public let spooled: Counter
    public let spoolTransactions: Counter
    public let spoolBytes: Gauge
    public let spoolMaxBytes: Gauge
    public let spoolRecords: Gauge
    public let spoolDeadLetters: Gauge
    /// 1 while fetched records wait for room (spool.max_bytes reached, disk or map full).
    public let spoolFull: Gauge
    /// Spool transactions that failed (other than for lack of space) and were retried.
    public let spoolWriteErrors: Counter
    /// Unreadable records moved from the spool to the dead-letter store.
    public let spoolQuarantined: Counter
    /// Pages of the dead-letter store, in bytes, and its limit (spool.dead_letter_max_bytes).
    public let spoolDeadLetterBytes: Gauge
    public let spoolDeadLetterMaxBytes: Gauge
    /// Dead letters deleted, oldest first, to keep the store under its limit.
    public let spoolDeadLettersEvicted: Counter
    /// Dead letters stored with only the first max_record_bytes of their payload.
    public let spoolDeadLettersTruncated: Counter
    /// Age of the oldest record some sink has not delivered, in seconds (fractional).
    let oldestRecordAge: any GaugeHandle

    /// The source's counters the spool writer bumps.
    public let skippedEmpty: Counter
    public let oversize: Counter
    public let duplicatesSkipped: Counter

    /// - Parameters:
    ///   - registry: where the series are declared; the default exposes nothing (tools, tests).
    ///   - heartbeats: the gateway's loop heartbeats, where the writer beats.
    ///   - skippedEmpty, oversize, duplicatesSkipped: the source's counters (fresh ones by default).
    ///   - sinkBacklog: each sink's backlog gauges; by default gauges of the spool's own, unexported.
    public init(
        registry: any MetricsRegistry = UnexportedMetrics(), heartbeats: Heartbeats = Heartbeats(),
        skippedEmpty: Counter = Counter(), oversize: Counter = Counter(), duplicatesSkipped: Counter = Counter(),
        sinkBacklog: (@Sendable (String) -> SinkBacklogGauges)? = nil
    ) {
        self.registry = registry
        self.heartbeats = heartbeats
        self.skippedEmpty = skippedEmpty
        self.oversize = oversize
        self.duplicatesSkipped = duplicatesSkipped
        if let sinkBacklog {
            backlogOf = sinkBacklog
        } else {
            let table = BacklogTable()
            backlogOf = { table.gauges($0) }
        }
        spooled = registry.counter("logbridge_spool_records_total", help: "Records written to the spool.")
        spoolTransactions = registry.counter("logbridge_spool_transactions_total", help: "Spool write transactions committed.")
        spoolBytes = registry.gauge("logbridge_spool_used_bytes", help: "Bytes of live pages in the spool.")
        spoolMaxBytes = registry.gauge("logbridge_spool_max_bytes", help: "spool.max_bytes.")
        spoolRecords = registry.gauge("logbridge_spool_records", help: "Records in the spool waiting for at least one sink.")
        spoolDeadLetters = registry.gauge("logbridge_spool_dead_letters", help: "Records in the dead-letter store.")
        spoolFull = registry.gauge("logbridge_spool_full", help: "1 while fetched records wait for room in the spool (source paused).")
        spoolWriteErrors = registry.counter("logbridge_spool_write_errors_total", help: "Spool transactions that failed and were retried.")
        spoolQuarantined = registry.counter("logbridge_spool_quarantined_records_total", help: "Unreadable spool records moved to the dead-letter store.")
        spoolDeadLetterBytes = registry.gauge("logbridge_spool_dead_letter_bytes", help: "Bytes of pages the dead-letter store holds.")
        spoolDeadLetterMaxBytes = registry.gauge("logbridge_spool_dead_letter_max_bytes", help: "spool.dead_letter_max_bytes.")
        spoolDeadLettersEvicted = registry.counter("logbridge_spool_dead_letters_evicted_total", help: "Dead letters deleted, oldest first, to keep the store under spool.dead_letter_max_bytes.")
        spoolDeadLettersTruncated = registry.counter("logbridge_spool_dead_letters_truncated_total", help: "Dead letters stored with only a prefix of their payload (the record was over max_record_bytes).")
        oldestRecordAge = registry.makeGauge(
            name: "logbridge_spool_oldest_record_age_seconds", labels: [],
            help: "Age (from its Kafka timestamp) of the oldest record some sink has not delivered; 0 when none waits.")
    }

    /// The heartbeat of one of the spool's loops (`spool-writer`).
    public func heartbeat(_ name: String) -> Heartbeat { heartbeats.heartbeat(name) }

    /// The backlog gauges of `sink`, which the spool refreshes before each scrape.
    public func sink(_ name: String) -> SinkBacklogGauges { backlogOf(name) }

    /// Registers a function that refreshes derived gauges just before a scrape.
    public func addCollector(_ key: String, _ collect: @escaping @Sendable () -> Void) { registry.addCollector(key, collect) }
}

/// One sink's backlog as the spool measures it; the gauges are the sink's own series.
public struct SinkBacklogGauges: Sendable {
    /// Records in the spool the sink has not delivered yet.
    public let backlog: Gauge
    /// Bytes of those records (value, key, Kafka headers, 24-byte header).
    public let backlogBytes: Gauge
    /// Seconds since the oldest of them was spooled; 0 when the sink has caught up.
    public let backlogAgeSeconds: Gauge

    public init(backlog: Gauge = Gauge(), backlogBytes: Gauge = Gauge(), backlogAgeSeconds: Gauge = Gauge()) {
        self.backlog = backlog
        self.backlogBytes = backlogBytes
        self.backlogAgeSeconds = backlogAgeSeconds
    }
}

/// Backlog gauges of the spool's own, by sink, for a spool outside a gateway.
private final class BacklogTable: Sendable {
    private let table = Mutex<[String: SinkBacklogGauges]>([:])

    func gauges(_ sink: String) -> SinkBacklogGauges {
        table.withLock { table in
            if let existing = table[sink] { return existing }
            let created = SinkBacklogGauges()
            table[sink] = created
            return created
        }
    }
}
