import LogBridgeCore
import Synchronization

/// Counters, gauges and histograms made from events (`metrics` processor), plus the pipeline's
/// own counters (redactions per detector, dropped events), declared in the gateway's
/// ``MetricsRegistry`` so `/metrics` renders them with every other stage's series.
///
/// Series are keyed by their label values; each family caps its series (`max_series`) so a
/// label fed from an unbounded field cannot exhaust memory: new series beyond the cap are not
/// created in the registry, and `logbridge_pipeline_metric_series_dropped_total` counts the
/// observations lost. The values are also kept here, because the registry's series cannot be
/// read back (the demo summary, the dry run and the tests read them).
public final class PipelineMetrics: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case counter, gauge, histogram }

    struct Family {
        var kind: Kind
        var help: String
        var labelNames: [String]
        var buckets: [Double]
        var maxSeries: Int
        /// Label values (joined with 0xFF) -> series.
        var series: [ByteKey: Series] = [:]
        var order: [[UInt8]] = []
    }

    struct Series {
        var labelValues: [String]
        var exported: Exported
        /// Counters and gauges: the value; histograms: the sum of the observations.
        var value: Double = 0
        var count: UInt64 = 0
    }

    enum Exported {
        case counter(any CounterHandle)
        case gauge(any GaugeHandle)
        case histogram(any HistogramHandle)
    }

    private struct State {
        var families: [String: Family] = [:]
        var dropped: [String: any CounterHandle] = [:]
    }

    private static let dropped = MetricFamily(
        name: "logbridge_pipeline_metric_series_dropped_total", kind: .counter,
        help: "Observations not recorded because the metric reached max_series.", labelNames: ["metric"])

    private let state = Mutex(State())
    /// Where the series are declared and exported.
    public let registry: any MetricsRegistry

    /// - Parameter registry: where the series are declared; the default exposes nothing (the
    ///   configuration check, tests).
    public init(registry: any MetricsRegistry = UnexportedMetrics()) {
        self.registry = registry
        try? registry.declare(Self.dropped)
    }

    /// Declares a family; declaring it again with the same shape is fine (each sink's pipeline
    /// declares the shared metrics), a different shape, or a name the gateway's other series
    /// hold, is a configuration error.
    func declare(name: String, kind: Kind, help: String, labelNames: [String], buckets: [Double], maxSeries: Int) throws(PipelineError) {
        let result: PipelineError? = state.withLock { state in
            if let existing = state.families[name] {
                guard existing.kind == kind, existing.labelNames == labelNames else {
                    return PipelineError("metric \(name) is declared twice with different types or labels")
                }
                return nil
            }
            do {
                try registry.declare(MetricFamily(name: name, kind: MetricKind(kind), help: help, labelNames: labelNames))
            } catch {
                return PipelineError("metric \(name) cannot be declared: \(error)")
            }
            state.families[name] = Family(kind: kind, help: help, labelNames: labelNames, buckets: buckets.sorted(), maxSeries: maxSeries)
            return nil
        }
        if let result { throw result }
    }

    public enum Update: Sendable {
        case add(Double)
        case set(Double)
        case observe(Double)
    }

    /// Applies `update` to the series of `name` with `key` (label values joined by 0xFF).
    func record(_ name: String, key: [UInt8], labelValues: @autoclosure () -> [String], _ update: Update) {
        state.withLock { state in
            guard var family = state.families[name] else { return }
            // Take the family out so the dictionary holds no second reference while it changes.
            state.families[name] = nil
            defer { state.families[name] = family }
            if family.series[ByteKey(key)] == nil {
                guard family.series.count < family.maxSeries else {
                    countDropped(name, in: &state)
                    return
                }
                let values = labelValues()
                family.series[ByteKey(key)] = Series(labelValues: values, exported: makeSeries(name, family, values))
                family.order.append(key)
            }
            family.series[ByteKey(key)]!.apply(update)
        }
    }

    private func makeSeries(_ name: String, _ family: Family, _ labelValues: [String]) -> Exported {
        let labels = Array(zip(family.labelNames, labelValues))
        switch family.kind {
        case .counter: return .counter(registry.makeCounter(name: name, labels: labels, help: family.help))
        case .gauge: return .gauge(registry.makeGauge(name: name, labels: labels, help: family.help))
        case .histogram:
            return .histogram(registry.makeHistogram(name: name, labels: labels, buckets: family.buckets, help: family.help))
        }
    }

    private func countDropped(_ name: String, in state: inout State) {
        if state.dropped[name] == nil {
            state.dropped[name] = registry.makeCounter(name: Self.dropped.name, labels: [("metric", name)], help: Self.dropped.help)
        }
        state.dropped[name]?.increment(by: Int64(1))
    }

    /// Adds to one of the pipeline's own counters, declared on first use.
    public func increment(_ name: String, help: String, labels: [(String, String)], by amount: Int) {
        guard amount > 0 else { return }
        let labelNames = labels.map(\.0)
        try? declare(name: name, kind: .counter, help: help, labelNames: labelNames, buckets: [], maxSeries: 10_000)
        var key: [UInt8] = []
        for (_, value) in labels { key += value.utf8; key.append(0xFF) }
        record(name, key: key, labelValues: labels.map(\.1), .add(Double(amount)))
    }

    /// The current value of a counter or gauge series (tests, the dry run); a histogram's
    /// observation count.
    public func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        state.withLock { state in
            guard let family = state.families[name] else { return nil }
            let key = family.labelNames.reduce(into: [UInt8]()) { key, label in
                key += (labels[label] ?? "").utf8
                key.append(0xFF)
            }
            return family.series[ByteKey(key)].map { family.kind == .histogram ? Double($0.count) : $0.value }
        }
    }

    /// Every series of a family: label values and value (histograms: observation count).
    public func series(_ name: String) -> [(labels: [String], value: Double)] {
        state.withLock { state in
            guard let family = state.families[name] else { return [] }
            return family.order.compactMap { key in
                family.series[ByteKey(key)].map { ($0.labelValues, family.kind == .histogram ? Double($0.count) : $0.value) }
            }
        }
    }
}

extension PipelineMetrics.Series {
    /// Applies `update` here and to the exported series.
    mutating func apply(_ update: PipelineMetrics.Update) {
        switch (update, exported) {
        case (.add(let delta), .counter(let counter)):
            // A counter only goes up (the exporter refuses a negative step): a negative value
            // from an event is ignored.
            guard delta >= 0 else { return }
            value += delta
            // Whole steps stay integers, so the exposition shows `3`, not `3.0`.
            if delta == delta.rounded(), delta < 9_007_199_254_740_992 {
                counter.increment(by: Int64(delta))
            } else {
                counter.increment(by: delta)
            }
        case (.add(let delta), .gauge(let gauge)):
            value += delta
            gauge.set(value)
        case (.set(let new), .gauge(let gauge)):
            value = new
            gauge.set(new)
        case (.observe(let observed), .histogram(let histogram)):
            value += observed
            count += 1
            histogram.record(observed)
        default:
            // The processor validates action against kind, so nothing else reaches here.
            return
        }
    }
}

extension MetricKind {
    init(_ kind: PipelineMetrics.Kind) {
        switch kind {
        case .counter: self = .counter
        case .gauge: self = .gauge
        case .histogram: self = .histogram
        }
    }
}
