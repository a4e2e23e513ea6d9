import Dispatch
import Prometheus
import Synchronization

/// A monotonically increasing counter that any thread may bump, exported to `/metrics` when it
/// has a Prometheus counter behind it.
///
/// The atomic value is kept beside the exported collector because the gateway reads its own
/// counters (demo summary, `--until-delivered`, tests) and Prometheus collectors cannot be read.
public final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    private let exported: Prometheus.Counter?
    public init(_ exported: Prometheus.Counter? = nil) { self.exported = exported }
    @inlinable public func add(_ n: Int) { if n != 0 { _add(n) } }
    @usableFromInline func _add(_ n: Int) {
        storage.wrappingAdd(n, ordering: .relaxed)
        exported?.increment(by: Int64(n))
    }
    public var value: Int { storage.load(ordering: .relaxed) }
}

/// A value that can go up and down (spool bytes, paused partitions), exported like ``Counter``.
public final class Gauge: Sendable {
    private let storage = Atomic<Int>(0)
    private let exported: Prometheus.Gauge?
    public init(_ exported: Prometheus.Gauge? = nil) { self.exported = exported }
    public func set(_ n: Int) {
        storage.store(n, ordering: .relaxed)
        exported?.set(Int64(n))
    }
    /// Moves the value by `n` (in-flight counts).
    public func add(_ n: Int) {
        storage.wrappingAdd(n, ordering: .relaxed)
        exported?.increment(by: Double(n))
    }
    public var value: Int { storage.load(ordering: .relaxed) }
}

/// The last time a loop went round, for `/healthz`: a loop that stops turning (a thread stuck in
/// a C call, a deadlock) shows as an old heartbeat.
public final class Heartbeat: Sendable {
    private let lastNanos = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    private let stopped = Atomic<Bool>(false)
    public init() {}
    public func beat() { lastNanos.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    /// The loop ended on purpose (shutdown): no longer judged.
    public func stop() { stopped.store(true, ordering: .relaxed) }
    public var isStopped: Bool { stopped.load(ordering: .relaxed) }
    public var age: Duration {
        let now = DispatchTime.now().uptimeNanoseconds
        let last = lastNanos.load(ordering: .relaxed)
        return .nanoseconds(Int64(now > last ? now - last : 0))
    }
}

/// Counters every stage updates, shared by the gateway, the demo summary and `/metrics`.
///
/// Each instance owns its Prometheus registry (not the process-wide default), so tests can run
/// several gateways in one process. Names follow the stage they count (`logbridge_source_*`,
/// `logbridge_spool_*`, `logbridge_sink_*`); the README lists them with their meaning.
public final class GatewayStatistics: Sendable {
    public let registry: PrometheusCollectorRegistry

    // MARK: Source
    /// Records received from Kafka (including tombstones and oversize ones). Exported per
    /// partition by the source as `logbridge_source_records_total`.
    public let consumed = Counter()
    /// Payload bytes received from Kafka.
    public let consumedBytes: Counter
    /// Tombstones (null values) and empty values, counted and skipped.
    public let skippedEmpty: Counter
    /// Values over the size limit, sent to the dead-letter store.
    public let oversize: Counter
    /// Records fetched again that the spool already held (re-delivery after a rebalance or restart).
    public let duplicatesSkipped: Counter
    /// Number of assigned partitions currently paused because the spool is full.
    public let pausedPartitions: Gauge
    public let assignedPartitions: Gauge
    public let rebalances: Counter
    /// Commits of revoked partitions' offsets the group coordinator refused (the next owner re-reads
    /// from the last committed offset; see the README on rebalances).
    public let revokeCommitFailures: Counter
    /// 1 while this member holds an assignment from the consumer group.
    public let groupJoined: Gauge
    /// Entra ID tokens obtained and handed to librdkafka (`result="success"`), and failed attempts
    /// (`result="failure"`: token endpoint down or refusing, or librdkafka refusing the token).
    public let oauthTokenRefreshes: Counter
    public let oauthTokenRefreshFailures: Counter
    /// Unix time the Entra ID token librdkafka holds expires (0 before the first one).
    public let oauthTokenExpiry: Gauge

    // MARK: Spool
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

    // MARK: Operations
    public let configReloads: Counter
    public let configReloadFailures: Counter
    /// Unix time of the last configuration applied (at start and on each successful reload).
    public let configLastLoaded: Gauge

    private let sinkCounters: Mutex<[String: SinkStatistics]> = Mutex([:])
    private let partitionMetrics: Mutex<[TopicPartition: (records: Counter, lag: Prometheus.Gauge?)]> = Mutex([:])
    private let heartbeats: Mutex<[String: Heartbeat]> = Mutex([:])
    private let collectors: Mutex<[String: @Sendable () -> Void]> = Mutex([:])

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter { Counter(registry.makeCounter(name: name, help: help)) }
        func gauge(_ name: String, _ help: String) -> Gauge { Gauge(registry.makeGauge(name: name, help: help)) }
        consumedBytes = counter("logbridge_source_bytes_total", "Payload bytes received from Kafka.")
        skippedEmpty = counter("logbridge_source_skipped_empty_total", "Tombstones and empty records skipped.")
        oversize = counter(
            "logbridge_source_oversize_records_total", "Records over spool.max_record_bytes, sent to the dead-letter store.")
        duplicatesSkipped = counter(
            "logbridge_source_duplicates_skipped_total", "Records fetched again that the spool already held (not spooled twice).")
        pausedPartitions = gauge("logbridge_source_paused_partitions", "Assigned partitions paused because the spool is full.")
        assignedPartitions = gauge("logbridge_source_assigned_partitions", "Partitions assigned to this consumer-group member.")
        rebalances = counter("logbridge_source_rebalances_total", "Consumer-group rebalance events (assign and revoke).")
        revokeCommitFailures = counter(
            "logbridge_source_revoke_commit_failures_total",
            "Offset commits for revoked partitions refused by the group coordinator (their next owner re-reads from the last commit).")
        groupJoined = gauge("logbridge_source_group_joined", "1 while this member holds an assignment from the consumer group.")
        oauthTokenRefreshes = Counter(registry.makeCounter(
            name: "logbridge_source_oauth_token_refresh_total", labels: [("result", "success")],
            help: "Entra ID token requests for the Kafka endpoint, by result."))
        oauthTokenRefreshFailures = Counter(registry.makeCounter(
            name: "logbridge_source_oauth_token_refresh_total", labels: [("result", "failure")],
            help: "Entra ID token requests for the Kafka endpoint, by result."))
        oauthTokenExpiry = gauge(
            "logbridge_source_oauth_token_expiry_timestamp_seconds", "Unix time the Entra ID token librdkafka holds expires.")
        spooled = counter("logbridge_spool_records_total", "Records written to the spool.")
        spoolTransactions = counter("logbridge_spool_transactions_total", "Spool write transactions committed.")
        spoolBytes = gauge("logbridge_spool_used_bytes", "Bytes of live pages in the spool.")
        spoolMaxBytes = gauge("logbridge_spool_max_bytes", "spool.max_bytes.")
        spoolRecords = gauge("logbridge_spool_records", "Records in the spool waiting for at least one sink.")
        spoolDeadLetters = gauge("logbridge_spool_dead_letters", "Records in the dead-letter store.")
        spoolFull = gauge("logbridge_spool_full", "1 while fetched records wait for room in the spool (source paused).")
        spoolWriteErrors = counter("logbridge_spool_write_errors_total", "Spool transactions that failed and were retried.")
        spoolQuarantined = counter(
            "logbridge_spool_quarantined_records_total", "Unreadable spool records moved to the dead-letter store.")
        spoolDeadLetterBytes = gauge("logbridge_spool_dead_letter_bytes", "Bytes of pages the dead-letter store holds.")
        spoolDeadLetterMaxBytes = gauge("logbridge_spool_dead_letter_max_bytes", "spool.dead_letter_max_bytes.")
        spoolDeadLettersEvicted = counter(
            "logbridge_spool_dead_letters_evicted_total",
            "Dead letters deleted, oldest first, to keep the store under spool.dead_letter_max_bytes.")
        spoolDeadLettersTruncated = counter(
            "logbridge_spool_dead_letters_truncated_total",
            "Dead letters stored with only a prefix of their payload (the record was over max_record_bytes).")
        configReloads = counter("logbridge_config_reloads_total", "Configuration reloads applied (SIGHUP).")
        configReloadFailures = counter(
            "logbridge_config_reload_failures_total", "Configuration reloads rejected; the running configuration was kept.")
        configLastLoaded = gauge(
            "logbridge_config_last_reload_success_timestamp_seconds",
            "Unix time the running configuration was applied (start or last successful reload).")
    }

    /// The counters of one sink, created on first use.
    public func sink(_ name: String) -> SinkStatistics {
        sinkCounters.withLock { table in
            if let existing = table[name] { return existing }
            let created = SinkStatistics(name: name, registry: registry)
            table[name] = created
            return created
        }
    }

    public var sinkNames: [String] { sinkCounters.withLock { Array($0.keys).sorted() } }

    /// Records received from one partition (`logbridge_source_records_total{topic,partition}`).
    public func sourceRecords(_ tp: TopicPartition) -> Counter {
        partitionMetrics.withLock { table in
            if let existing = table[tp] { return existing.records }
            let counter = makeSourceRecords(tp)
            table[tp] = (counter, nil)
            return counter
        }
    }

    private func makeSourceRecords(_ tp: TopicPartition) -> Counter {
        Counter(registry.makeCounter(
            name: "logbridge_source_records_total", labels: Self.labels(tp), help: "Records received from Kafka, per partition."))
    }

    /// Sets a partition's consumer lag: records between its high watermark and the next offset
    /// this member will spool (`logbridge_source_consumer_lag{topic,partition}`); nil removes the
    /// series (the partition was revoked).
    public func setConsumerLag(_ tp: TopicPartition, _ lag: Int64?) {
        partitionMetrics.withLock { table in
            let records = table[tp]?.records ?? makeSourceRecords(tp)
            var gauge = table[tp]?.lag
            if let lag {
                if gauge == nil {
                    gauge = registry.makeGauge(
                        name: "logbridge_source_consumer_lag", labels: Self.labels(tp),
                        help: "Records between the partition's high watermark and the next offset to spool.")
                }
                gauge?.set(lag)
            } else if let existing = gauge {
                registry.unregisterGauge(existing)
                gauge = nil
            }
            table[tp] = (records, gauge)
        }
    }

    private static func labels(_ tp: TopicPartition) -> [(String, String)] {
        [("topic", tp.topic), ("partition", "\(tp.partition)")]
    }

    /// The heartbeat of a named loop (`kafka-poll`, `spool-writer`, `sink:NAME`), created on first use.
    public func heartbeat(_ name: String) -> Heartbeat {
        heartbeats.withLock { table in
            if let existing = table[name], !existing.isStopped { return existing }
            let created = Heartbeat()
            table[name] = created
            return created
        }
    }

    /// Loops whose heartbeat is older than `limit`, by name (running loops only).
    public func stalledLoops(olderThan limit: Duration) -> [String] {
        heartbeats.withLock { table in table.filter { !$0.value.isStopped && $0.value.age > limit }.keys.sorted() }
    }

    /// Registers a function that refreshes derived gauges (backlog, lag, ages) just before a scrape,
    /// replacing one registered under the same key.
    public func addCollector(_ key: String, _ collect: @escaping @Sendable () -> Void) {
        collectors.withLock { $0[key] = collect }
    }

    public func removeCollector(_ key: String) {
        _ = collectors.withLock { $0.removeValue(forKey: key) }
    }

    /// Runs the collectors, then returns the registry's Prometheus text.
    public func exposition() -> [UInt8] {
        for collect in collectors.withLock({ Array($0.values) }) { collect() }
        return registry.emitToBuffer()
    }
}

/// Counters of one sink, labelled `sink="NAME"` in `/metrics`.
public final class SinkStatistics: Sendable {
    public let name: String
    private let registry: PrometheusCollectorRegistry
    public let delivered: Counter
    public let deliveredBytes: Counter
    public let batches: Counter
    /// Delivery attempts that failed (each is retried; nothing is dropped).
    public let failures: Counter
    /// Records sent again after a failed or unconfirmed attempt.
    public let retried: Counter
    /// Records the destination rejected for good, stored in the dead-letter store.
    public let deadLettered: Counter
    /// Events the pipeline did not send to this sink (`filter`, `drop`, `route`).
    public let discarded: Counter
    /// Records sent with their invalid UTF-8 sequences replaced by U+FFFD (the destination needs
    /// valid UTF-8; the record is sent, not refused).
    public let utf8Repaired: Counter
    /// Records in the spool this sink has not delivered yet.
    public let backlog: Gauge
    /// Bytes of spooled records (value, key, Kafka headers, 24-byte header) this sink has not delivered yet.
    public let backlogBytes: Gauge
    /// Seconds since this sink's oldest undelivered record was spooled; 0 when it has caught up.
    public let backlogAgeSeconds: Gauge
    /// Spooled records this sink will never receive: its backlog went over `sinks.NAME.backlog`
    /// with `when_full: skip_oldest`, and its cursor was moved past them so the others keep flowing.
    public let skipped: Counter
    /// Requests (or batches, for sinks without requests) being sent now.
    public let inFlight: Gauge
    /// Batches the sink may send at once (adaptive concurrency moves it).
    public let concurrencyLimit: Gauge
    /// Records per batch handed to the sink.
    public let batchRecords: ValueHistogram
    private let endpointMetrics: Mutex<[String: (latency: DurationHistogram, up: Prometheus.Gauge)]> = Mutex([:])
    /// `logbridge_sink_endpoint_fault` series by endpoint, then by fault.
    private let faultGauges: Mutex<[String: [String: Prometheus.Gauge]]> = Mutex([:])

    /// A sink's counters in a registry of their own (sinks built outside a gateway, in tests).
    public convenience init(name: String = "sink") {
        self.init(name: name, registry: PrometheusCollectorRegistry())
    }

    init(name: String, registry: PrometheusCollectorRegistry) {
        self.name = name
        self.registry = registry
        let labels = [("sink", name)]
        func counter(_ metric: String, _ help: String) -> Counter {
            Counter(registry.makeCounter(name: metric, labels: labels, help: help))
        }
        func gauge(_ metric: String, _ help: String) -> Gauge {
            Gauge(registry.makeGauge(name: metric, labels: labels, help: help))
        }
        delivered = counter("logbridge_sink_records_delivered_total", "Records the destination stored.")
        deliveredBytes = counter("logbridge_sink_bytes_delivered_total", "Payload bytes of the records delivered.")
        batches = counter("logbridge_sink_batches_total", "Batches delivered.")
        failures = counter("logbridge_sink_delivery_failures_total", "Delivery attempts that failed and were retried.")
        retried = counter("logbridge_sink_records_retried_total", "Records sent again after a failed or unconfirmed attempt.")
        deadLettered = counter(
            "logbridge_sink_records_dead_lettered_total", "Records the destination refused for good, in the dead-letter store.")
        discarded = counter("logbridge_sink_records_discarded_total", "Events the pipeline filtered, dropped or routed away.")
        utf8Repaired = counter(
            "logbridge_sink_records_utf8_repaired_total", "Records sent with invalid UTF-8 sequences replaced by U+FFFD.")
        backlog = gauge("logbridge_sink_backlog_records", "Spooled records this sink has not delivered yet.")
        backlogBytes = gauge(
            "logbridge_sink_backlog_bytes", "Bytes of spooled records (value, key, Kafka headers, 24-byte header) this sink has not delivered yet.")
        backlogAgeSeconds = gauge(
            "logbridge_sink_backlog_age_seconds", "Seconds since this sink's oldest undelivered record was spooled; 0 when caught up.")
        skipped = counter(
            "logbridge_sink_records_skipped_total",
            "Spooled records this sink skipped and will never receive: its backlog exceeded sinks.NAME.backlog (when_full: skip_oldest).")
        inFlight = gauge("logbridge_sink_requests_in_flight", "Requests or batches being sent now.")
        concurrencyLimit = gauge("logbridge_sink_concurrency_limit", "Batches the sink may send at once.")
        batchRecords = registry.makeValueHistogram(
            name: "logbridge_sink_batch_records", labels: labels,
            buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000], help: "Records per batch handed to the sink.")
    }

    /// Records one request's latency against `endpoint` (its URL).
    public func observeRequest(endpoint: String, duration: Duration) {
        metrics(for: endpoint).latency.record(duration)
    }

    /// Whether `endpoint` is in rotation (1) or ejected after failures (0).
    public func setEndpoint(_ endpoint: String, up: Bool) {
        metrics(for: endpoint).up.set(Int64(up ? 1 : 0))
    }

    /// The endpoint's current network fault (`certificate_untrusted`, `connection_refused`, ...;
    /// nil: none). Its series reads 1; the endpoint's earlier faults read 0, so a scrape never
    /// shows two at once and a cleared fault does not linger as 1.
    public func setEndpointFault(_ endpoint: String, fault: String?) {
        faultGauges.withLock { table in
            var gauges = table[endpoint] ?? [:]
            if let fault, gauges[fault] == nil {
                gauges[fault] = registry.makeGauge(
                    name: "logbridge_sink_endpoint_fault", labels: [("sink", name), ("endpoint", endpoint), ("fault", fault)],
                    help: "1 for the endpoint's current network fault (why its requests get no answer), 0 for faults it had before.")
            }
            for (kind, gauge) in gauges { gauge.set(Int64(kind == fault ? 1 : 0)) }
            table[endpoint] = gauges
        }
    }

    private func metrics(for endpoint: String) -> (latency: DurationHistogram, up: Prometheus.Gauge) {
        endpointMetrics.withLock { table in
            if let existing = table[endpoint] { return existing }
            let labels = [("sink", name), ("endpoint", endpoint)]
            let created = (
                latency: registry.makeDurationHistogram(
                    name: "logbridge_sink_request_duration_seconds", labels: labels,
                    buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                              .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30)],
                    help: "Latency of requests to each endpoint, until the response was read."),
                up: registry.makeGauge(
                    name: "logbridge_sink_endpoint_up", labels: labels, help: "1 while the endpoint is in rotation, 0 while ejected.")
            )
            table[endpoint] = created
            return created
        }
    }
}
