import LogBridgeCore
import LogBridgeKafka
import LogBridgeMetrics
import LogBridgeSinks
import LogBridgeSpool
import Prometheus

/// A gateway's statistics: each stage's own (``SourceStatistics``, ``SpoolStatistics``,
/// ``SinkStatisticsTable``), the configuration reloads', and the one registry all of them are
/// exposed from on `/metrics`.
///
/// The stages declare their metric names themselves; this only wires them to one registry and
/// one set of heartbeats. The README lists the metrics with their meaning.
public final class GatewayStatistics: Sendable {
    /// Renders `/metrics`: every stage's series, the pipelines' and the admin endpoint's.
    public let metrics: PrometheusMetricsRegistry
    public let heartbeats: Heartbeats
    public let source: SourceStatistics
    public let spool: SpoolStatistics
    public let sinks: SinkStatisticsTable

    // MARK: Operations
    public let configReloads: LogBridgeCore.Counter
    public let configReloadFailures: LogBridgeCore.Counter
    /// Unix time of the last configuration applied (at start and on each successful reload).
    public let configLastLoaded: LogBridgeCore.Gauge

    public init() {
        let metrics = PrometheusMetricsRegistry()
        let heartbeats = Heartbeats()
        self.metrics = metrics
        self.heartbeats = heartbeats
        let source = SourceStatistics(registry: metrics, heartbeats: heartbeats)
        let sinks = SinkStatisticsTable(registry: metrics, heartbeats: heartbeats)
        self.source = source
        self.sinks = sinks
        // The spool writer counts the source's skipped records, and the spool measures each
        // sink's backlog: it is handed those series rather than naming them.
        spool = SpoolStatistics(
            registry: metrics, heartbeats: heartbeats, skippedEmpty: source.skippedEmpty, oversize: source.oversize,
            duplicatesSkipped: source.duplicatesSkipped,
            sinkBacklog: { name in
                let sink = sinks.sink(name)
                return SinkBacklogGauges(backlog: sink.backlog, backlogBytes: sink.backlogBytes, backlogAgeSeconds: sink.backlogAgeSeconds)
            })
        configReloads = metrics.counter("logbridge_config_reloads_total", help: "Configuration reloads applied (SIGHUP).")
        configReloadFailures = metrics.counter(
            "logbridge_config_reload_failures_total", help: "Configuration reloads rejected; the running configuration was kept.")
        configLastLoaded = metrics.gauge(
            "logbridge_config_last_reload_success_timestamp_seconds",
            help: "Unix time the running configuration was applied (start or last successful reload).")
    }

    /// The swift-prometheus registry behind ``metrics``.
    public var registry: PrometheusCollectorRegistry { metrics.registry }

    /// The counters of one sink, created on first use.
    public func sink(_ name: String) -> SinkStatistics { sinks.sink(name) }
    public var sinkNames: [String] { sinks.sinkNames }

    /// Loops whose heartbeat is older than `limit`, by name (running loops only).
    public func stalledLoops(olderThan limit: Duration) -> [String] { heartbeats.stalledLoops(olderThan: limit) }

    /// Runs the collectors, then returns the registry's Prometheus text.
    public func exposition() -> [UInt8] { metrics.exposition() }
}
