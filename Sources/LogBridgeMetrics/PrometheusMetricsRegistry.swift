import LogBridgeCore
import Prometheus
import Synchronization

/// The stages' ``MetricsRegistry`` on one swift-prometheus registry: every series of a gateway
/// (source, spool, sinks, pipeline, admin, process) is rendered by this one registry on `/metrics`.
///
/// One per gateway rather than the process-wide default, so tests can run several gateways in
/// one process. swift-prometheus stops the process when a name is registered with another type,
/// labelled and unlabelled series mix, or help texts differ; this registry checks each family's
/// shape first: ``declare(_:)`` throws (the pipeline's `metrics` processor turns that into a
/// configuration error), and a series of a conflicting shape is left unexported.
public final class PrometheusMetricsRegistry: MetricsRegistry {
    /// The swift-prometheus registry behind it, for code that registers there directly (the admin
    /// endpoint's counters, swift-metrics, process metrics).
    public let registry: PrometheusCollectorRegistry
    private let families = Mutex<[String: MetricFamily]>([:])
    private let collectors = Mutex<[String: @Sendable () -> Void]>([:])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    public func declare(_ family: MetricFamily) throws(MetricsRegistryError) {
        if let error = families.withLock({ $0.claim(family) }) { throw error }
    }

    /// The help text to register `family` with (the first one declared), or nil on a conflict.
    private func admit(_ family: MetricFamily) -> String? {
        families.withLock { table in table.claim(family) == nil ? table[family.name]?.help : nil }
    }

    public func makeCounter(name: String, labels: [(String, String)], help: String) -> any CounterHandle {
        guard let help = admit(MetricFamily(name: name, kind: .counter, help: help, labelNames: labels.map(\.0))) else {
            return UnexportedMetrics().makeCounter(name: name, labels: labels, help: help)
        }
        return registry.makeCounter(name: name, labels: labels, help: help)
    }

    public func makeGauge(name: String, labels: [(String, String)], help: String) -> any GaugeHandle {
        guard let help = admit(MetricFamily(name: name, kind: .gauge, help: help, labelNames: labels.map(\.0))) else {
            return UnexportedMetrics().makeGauge(name: name, labels: labels, help: help)
        }
        return registry.makeGauge(name: name, labels: labels, help: help)
    }

    public func makeHistogram(name: String, labels: [(String, String)], buckets: [Double], help: String) -> any HistogramHandle {
        guard let help = admit(MetricFamily(name: name, kind: .histogram, help: help, labelNames: labels.map(\.0))) else {
            return UnexportedMetrics().makeHistogram(name: name, labels: labels, buckets: buckets, help: help)
        }
        return registry.makeValueHistogram(name: name, labels: labels, buckets: buckets, help: help)
    }

    public func unregister(_ gauge: any GaugeHandle) {
        if let gauge = gauge as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    public func addCollector(_ key: String, _ collect: @escaping @Sendable () -> Void) { collectors.withLock { $0[key] = collect } }
    public func removeCollector(_ key: String) { _ = collectors.withLock { $0.removeValue(forKey: key) } }

    /// Runs the collectors, then returns the Prometheus text of every series.
    public func exposition() -> [UInt8] {
        for collect in collectors.withLock({ Array($0.values) }) { collect() }
        return registry.emitToBuffer()
    }
}

extension Prometheus.Counter: CounterHandle {}
extension Prometheus.Gauge: GaugeHandle {}
extension Prometheus.Histogram: HistogramHandle where Value == Double {}
