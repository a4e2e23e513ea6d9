import Foundation
import Synchronization

/// Counters, gauges and histograms made from events (`metrics` processor), plus the pipeline's
/// own counters (redactions per detector, dropped events), rendered in the Prometheus text
/// format for the admin `/metrics` endpoint.
///
/// Series are keyed by their label values; each family caps its series (`max_series`) so a
/// label fed from an unbounded field cannot exhaust memory: new series beyond the cap are not
/// created, and `logbridge_pipeline_metric_series_dropped_total` counts the observations lost.
public final class PipelineMetrics: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case counter, gauge, histogram }

    struct Family {
        var kind: Kind
        var help: String
        var labelNames: [String]
        var buckets: [Double]
        var maxSeries: Int
        /// Label values (joined with 0xFF) -> series.
        var series: [[UInt8]: Series] = [:]
        var order: [[UInt8]] = []
    }

    struct Series {
        var labelValues: [String]
        var value: Double = 0
        var bucketCounts: [UInt64] = []
        var count: UInt64 = 0
    }

    private struct State {
        var families: [String: Family] = [:]
        var names: [String] = []
        var droppedSeries: [String: UInt64] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Declares a family; declaring it again with the same shape is fine (each sink's pipeline
    /// declares the shared metrics), a different shape is a configuration error.
    func declare(name: String, kind: Kind, help: String, labelNames: [String], buckets: [Double], maxSeries: Int) throws(PipelineError) {
        let result: PipelineError? = state.withLock { state in
            if let existing = state.families[name] {
                guard existing.kind == kind, existing.labelNames == labelNames else {
                    return PipelineError("metric \(name) is declared twice with different types or labels")
                }
                return nil
            }
            state.families[name] = Family(kind: kind, help: help, labelNames: labelNames, buckets: buckets.sorted(), maxSeries: maxSeries)
            state.names.append(name)
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
            if family.series[key] == nil {
                guard family.series.count < family.maxSeries else {
                    state.droppedSeries[name, default: 0] += 1
                    return
                }
                var fresh = Series(labelValues: labelValues())
                if family.kind == .histogram { fresh.bucketCounts = Array(repeating: 0, count: family.buckets.count) }
                family.series[key] = fresh
                family.order.append(key)
            }
            switch update {
            case .add(let delta): family.series[key]!.value += delta
            case .set(let value): family.series[key]!.value = value
            case .observe(let value):
                family.series[key]!.value += value
                family.series[key]!.count += 1
                for (i, bound) in family.buckets.enumerated() where value <= bound {
                    family.series[key]!.bucketCounts[i] += 1
                }
            }
        }
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

    /// The current value of a counter or gauge series (tests, the dry run).
    public func value(_ name: String, labels: [String: String] = [:]) -> Double? {
        state.withLock { state in
            guard let family = state.families[name] else { return nil }
            let key = family.labelNames.reduce(into: [UInt8]()) { key, label in
                key += (labels[label] ?? "").utf8
                key.append(0xFF)
            }
            return family.series[key].map { family.kind == .histogram ? Double($0.count) : $0.value }
        }
    }

    /// Every series of a family: label values and value (histograms: observation count).
    public func series(_ name: String) -> [(labels: [String], value: Double)] {
        state.withLock { state in
            guard let family = state.families[name] else { return [] }
            return family.order.compactMap { key in
                family.series[key].map { ($0.labelValues, family.kind == .histogram ? Double($0.count) : $0.value) }
            }
        }
    }

    /// All families in the Prometheus text exposition format (version 0.0.4).
    ///
    /// Every pipeline records into this one registry, so the lock is taken per family, only to
    /// copy it (a reference to its storage); the text is built outside. Events keep flowing while a
    /// scrape renders; an event recorded meanwhile copies that one family's series on write.
    public func render() -> String {
        let (names, dropped) = state.withLock { ($0.names, $0.droppedSeries) }
        var out = ""
        for name in names {
            guard let family = state.withLock({ $0.families[name] }) else { continue }
            out += "# HELP \(name) \(Self.escapeHelp(family.help))\n# TYPE \(name) \(family.kind.rawValue)\n"
            for key in family.order {
                guard let series = family.series[key] else { continue }
                let labels = zip(family.labelNames, series.labelValues).map { "\($0)=\"\(Self.escapeLabel($1))\"" }
                switch family.kind {
                case .counter, .gauge:
                    out += "\(name)\(Self.braces(labels)) \(Self.format(series.value))\n"
                case .histogram:
                    for (i, bound) in family.buckets.enumerated() {
                        out += "\(name)_bucket\(Self.braces(labels + ["le=\"\(Self.format(bound))\""])) \(series.bucketCounts[i])\n"
                    }
                    out += "\(name)_bucket\(Self.braces(labels + ["le=\"+Inf\""])) \(series.count)\n"
                    out += "\(name)_sum\(Self.braces(labels)) \(Self.format(series.value))\n"
                    out += "\(name)_count\(Self.braces(labels)) \(series.count)\n"
                }
            }
        }
        if !dropped.isEmpty {
            let name = "logbridge_pipeline_metric_series_dropped_total"
            out += "# HELP \(name) Observations not recorded because the metric reached max_series.\n# TYPE \(name) counter\n"
            for (metric, count) in dropped.sorted(by: { $0.key < $1.key }) {
                out += "\(name){metric=\"\(metric)\"} \(count)\n"
            }
        }
        return out
    }

    private static func braces(_ labels: [String]) -> String {
        labels.isEmpty ? "" : "{" + labels.joined(separator: ",") + "}"
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    private static func escapeLabel(_ value: String) -> String {
        var out = ""
        for c in value.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private static func escapeHelp(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
