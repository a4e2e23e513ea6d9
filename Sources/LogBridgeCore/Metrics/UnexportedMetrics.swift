import Synchronization

/// A ``MetricsRegistry`` that exposes nothing: for a stage built outside a gateway (tools, tests),
/// whose ``Counter`` and ``Gauge`` values are still readable.
///
/// It still checks declarations, so a stage's own tests see the same conflicts a gateway would.
public final class UnexportedMetrics: MetricsRegistry {
    private let families = Mutex<[String: MetricFamily]>([:])
    private let collectors = Mutex<[String: @Sendable () -> Void]>([:])

    public init() {}

    public func declare(_ family: MetricFamily) throws(MetricsRegistryError) {
        if let error = families.withLock({ $0.claim(family) }) { throw error }
    }

    public func makeCounter(name: String, labels: [(String, String)], help: String) -> any CounterHandle { Discarded() }
    public func makeGauge(name: String, labels: [(String, String)], help: String) -> any GaugeHandle { Discarded() }
    public func makeHistogram(name: String, labels: [(String, String)], buckets: [Double], help: String) -> any HistogramHandle {
        Discarded()
    }
    public func unregister(_ gauge: any GaugeHandle) {}

    public func addCollector(_ key: String, _ collect: @escaping @Sendable () -> Void) { collectors.withLock { $0[key] = collect } }
    public func removeCollector(_ key: String) { _ = collectors.withLock { $0.removeValue(forKey: key) } }

    /// Runs the collectors, as a scrape would (tests of derived gauges).
    public func collect() {
        for collect in collectors.withLock({ Array($0.values) }) { collect() }
    }

    private final class Discarded: CounterHandle, GaugeHandle, HistogramHandle {
        func increment(by amount: Int64) {}
        func increment(by amount: Double) {}
        func set(_ value: Int64) {}
        func set(_ value: Double) {}
        func record(_ value: Double) {}
    }
}

extension Dictionary where Key == String, Value == MetricFamily {
    /// Records `family` unless its name is taken by another kind or other label names; the error
    /// otherwise. Shared by every ``MetricsRegistry`` so they judge conflicts alike.
    public mutating func claim(_ family: MetricFamily) -> MetricsRegistryError? {
        guard let existing = self[family.name] else {
            self[family.name] = family
            return nil
        }
        guard existing.kind == family.kind, existing.labelNames == family.labelNames else {
            return MetricsRegistryError(
                "metric \(family.name) is already a \(existing.kind.rawValue) with labels [\(existing.labelNames.joined(separator: ", "))]")
        }
        return nil
    }
}
