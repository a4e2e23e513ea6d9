/// What kind of series a family holds.
public enum MetricKind: String, Sendable, CaseIterable {
    case counter, gauge, histogram
}

/// What every series of one metric name shares: the kind, the help text and the label names.
///
/// Stages declare the families they create lazily (per partition, per endpoint) when they start,
/// so a family the pipeline's `metrics` processor declares later cannot take their name.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var kind: MetricKind
    public var help: String
    public var labelNames: [String]

    public init(name: String, kind: MetricKind, help: String, labelNames: [String] = []) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labelNames = labelNames
    }
}

/// A family declared again with a different kind or different label names.
public struct MetricsRegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where a stage declares its series without knowing how they are exposed.
///
/// The stages (source, spool, sinks, pipeline) own their metric names; the application owns the
/// backend (one Prometheus registry per gateway) and hands each stage this abstraction. The
/// handles only write: the gateway reads its own values back from ``Counter`` and ``Gauge``.
public protocol MetricsRegistry: Sendable {
    /// Claims `family`: fine again with the same kind and label names (the first help text
    /// stays), an error when the name is taken by another shape.
    func declare(_ family: MetricFamily) throws(MetricsRegistryError)
    /// The counter series of `name` with `labels`; the same series when asked again.
    func makeCounter(name: String, labels: [(String, String)], help: String) -> any CounterHandle
    func makeGauge(name: String, labels: [(String, String)], help: String) -> any GaugeHandle
    /// A histogram with `buckets` as upper bounds (durations are recorded in seconds).
    func makeHistogram(name: String, labels: [(String, String)], buckets: [Double], help: String) -> any HistogramHandle
    /// Removes a gauge series (a revoked partition's lag), so it stops being exposed.
    func unregister(_ gauge: any GaugeHandle)
    /// Registers a function that refreshes derived gauges just before each scrape, replacing one
    /// registered under the same key.
    func addCollector(_ key: String, _ collect: @escaping @Sendable () -> Void)
    func removeCollector(_ key: String)
}

extension MetricsRegistry {
    /// A ``Counter`` exported as `name{labels}`, its value readable.
    public func counter(_ name: String, labels: [(String, String)] = [], help: String) -> Counter {
        Counter(makeCounter(name: name, labels: labels, help: help))
    }

    /// A ``Gauge`` exported as `name{labels}`, its value readable.
    public func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
        Gauge(makeGauge(name: name, labels: labels, help: help))
    }
}

/// The write side of an exported counter.
public protocol CounterHandle: Sendable {
    func increment(by amount: Int64)
    func increment(by amount: Double)
}

/// The write side of an exported gauge.
public protocol GaugeHandle: AnyObject, Sendable {
    func set(_ value: Int64)
    func set(_ value: Double)
    func increment(by amount: Double)
}

/// The write side of an exported histogram of values.
public protocol HistogramHandle: Sendable {
    func record(_ value: Double)
}
