import LogBridgeCore
import Synchronization

/// Counters of one sink, labelled `sink="NAME"` in `/metrics` (`logbridge_sink_*`).
public final class SinkStatistics: Sendable {
    public let name: String
    private let registry: any MetricsRegistry
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
    /// Records in the spool this sink has not delivered yet (the spool sets it before a scrape).
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
    public let batchRecords: any HistogramHandle
    private let endpointMetrics: Mutex<[String: (latency: any HistogramHandle, up: any GaugeHandle)]> = Mutex([:])
    /// `logbridge_sink_endpoint_fault` series by endpoint, then by fault.
    private let faultGauges: Mutex<[String: [String: any GaugeHandle]]> = Mutex([:])

    private static let latencyFamily = MetricFamily(
        name: "logbridge_sink_request_duration_seconds", kind: .histogram,
        help: "Latency of requests to each endpoint, until the response was read.", labelNames: ["sink", "endpoint"])
    private static let upFamily = MetricFamily(
        name: "logbridge_sink_endpoint_up", kind: .gauge, help: "1 while the endpoint is in rotation, 0 while ejected.",
        labelNames: ["sink", "endpoint"])
    private static let faultFamily = MetricFamily(
        name: "logbridge_sink_endpoint_fault", kind: .gauge,
        help: "1 for the endpoint's current network fault (why its requests get no answer), 0 for faults it had before.",
        labelNames: ["sink", "endpoint", "fault"])

    /// - Parameter registry: where the series are declared; the default exposes nothing (sinks
    ///   built outside a gateway, in tests).
    public init(name: String = "sink", registry: any MetricsRegistry = UnexportedMetrics()) {
        self.name = name
        self.registry = registry
        // Per-endpoint families are made on first use; claimed now so nothing else takes the names.
        for family in [Self.latencyFamily, Self.upFamily, Self.faultFamily] { try? registry.declare(family) }
        let labels = [("sink", name)]
        func counter(_ metric: String, _ help: String) -> Counter { registry.counter(metric, labels: labels, help: help) }
        func gauge(_ metric: String, _ help: String) -> Gauge { registry.gauge(metric, labels: labels, help: help) }
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
        batchRecords = registry.makeHistogram(
            name: "logbridge_sink_batch_records", labels: labels,
            buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000], help: "Records per batch handed to the sink.")
    }

    /// Records one request's latency against `endpoint` (its URL).
    public func observeRequest(endpoint: String, duration: Duration) {
        let (seconds, attoseconds) = duration.components
        metrics(for: endpoint).latency.record(Double(seconds) + Double(attoseconds) / 1e18)
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
                    name: Self.faultFamily.name, labels: [("sink", name), ("endpoint", endpoint), ("fault", fault)],
                    help: Self.faultFamily.help)
            }
            for (kind, gauge) in gauges { gauge.set(Int64(kind == fault ? 1 : 0)) }
            table[endpoint] = gauges
        }
    }

    private func metrics(for endpoint: String) -> (latency: any HistogramHandle, up: any GaugeHandle) {
        endpointMetrics.withLock { table in
            if let existing = table[endpoint] { return existing }
            let labels = [("sink", name), ("endpoint", endpoint)]
            let created = (
                latency: registry.makeHistogram(
                    name: Self.latencyFamily.name, labels: labels,
                    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
                    help: Self.latencyFamily.help),
                up: registry.makeGauge(name: Self.upFamily.name, labels: labels, help: Self.upFamily.help)
            )
            table[endpoint] = created
            return created
        }
    }
}

/// Every sink's ``SinkStatistics`` in one registry, created on first use, with the heartbeats and
/// scrape-time collectors the sink runners need.
public final class SinkStatisticsTable: Sendable {
    private let registry: any MetricsRegistry
    private let heartbeats: Heartbeats
    private let table = Mutex<[String: SinkStatistics]>([:])

    public init(registry: any MetricsRegistry = UnexportedMetrics(), heartbeats: Heartbeats = Heartbeats()) {
        self.registry = registry
        self.heartbeats = heartbeats
    }

    /// The counters of one sink, created on first use.
    public func sink(_ name: String) -> SinkStatistics {
        table.withLock { table in
            if let existing = table[name] { return existing }
            let created = SinkStatistics(name: name, registry: registry)
            table[name] = created
            return created
        }
    }

    public var sinkNames: [String] { table.withLock { Array($0.keys).sorted() } }

    /// The heartbeat of a sink's loop (`sink:NAME`).
    public func heartbeat(_ name: String) -> Heartbeat { heartbeats.heartbeat(name) }

    /// Registers a function that refreshes derived gauges just before a scrape.
    public func addCollector(_ key: String, _ collect: @escaping @Sendable () -> Void) { registry.addCollector(key, collect) }
    public func removeCollector(_ key: String) { registry.removeCollector(key) }
}
