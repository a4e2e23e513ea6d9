/// One metric the `metrics` processor derives from events, as Promtail's metrics stage.
public struct MetricDefinition: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        /// counter/gauge: +1 per event.
        case inc
        /// counter/gauge: + the value of `value_field`.
        case add
        /// gauge: = the value of `value_field`.
        case set
        /// gauge: -1 per event.
        case dec
        /// gauge: - the value of `value_field`.
        case sub
        /// histogram: one observation of `value_field`.
        case observe
    }

    public struct Label: Sendable, Equatable {
        public var name: String
        public var field: FieldPath
        public init(name: String, field: FieldPath) {
            self.name = name
            self.field = field
        }
    }

    public var name: String
    public var kind: PipelineMetrics.Kind
    public var help: String
    public var labels: [Label]
    public var when: ConditionConfiguration?
    public var valueField: FieldPath?
    public var action: Action
    public var buckets: [Double]
    public var maxSeries: Int

    public static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init(
        name: String, kind: PipelineMetrics.Kind, help: String = "", labels: [Label] = [], when: ConditionConfiguration? = nil,
        valueField: FieldPath? = nil, action: Action? = nil, buckets: [Double] = MetricDefinition.defaultBuckets, maxSeries: Int = 1000
    ) {
        self.name = name
        self.kind = kind
        self.help = help.isEmpty ? "\(kind.rawValue) from the logbridge pipeline" : help
        self.labels = labels
        self.when = when
        self.valueField = valueField
        self.action = action ?? (kind == .histogram ? .observe : valueField == nil ? .inc : .add)
        self.buckets = buckets
        self.maxSeries = maxSeries
    }

    /// Checks the name, the action against the kind, and the value field.
    public func validate() throws(PipelineError) {
        let nameOK = name.utf8.enumerated().allSatisfy { i, c in
            c == UInt8(ascii: "_") || c == UInt8(ascii: ":") || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || (i > 0 && c >= 0x30 && c <= 0x39)
        }
        guard !name.isEmpty, nameOK else { throw PipelineError("metric name '\(name)' is not a valid Prometheus name ([a-zA-Z_:][a-zA-Z0-9_:]*)") }
        for label in labels where label.name.isEmpty || label.name.hasPrefix("__") || !label.name.utf8.allSatisfy({ $0 == 0x5F || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }) {
            throw PipelineError("label name '\(label.name)' of metric \(name) is not a valid Prometheus label name")
        }
        let allowed: [Action]
        switch kind {
        case .counter: allowed = [.inc, .add]
        case .gauge: allowed = [.inc, .add, .set, .dec, .sub]
        case .histogram: allowed = [.observe]
        }
        guard allowed.contains(action) else {
            throw PipelineError("action \(action.rawValue) does not apply to a \(kind.rawValue) (use \(allowed.map(\.rawValue).joined(separator: ", ")))")
        }
        if [.add, .set, .sub, .observe].contains(action), valueField == nil {
            throw PipelineError("metric \(name): action \(action.rawValue) needs value_field")
        }
    }
}

/// `metrics`: counters, gauges and histograms from events, with labels from fields.
final class MetricsProcessor: EventProcessor {
    private struct Compiled {
        var definition: MetricDefinition
        var condition: Condition?
    }

    private let metrics: [Compiled]
    private let registry: PipelineMetrics
    /// Whether this pipeline instance records (the shared pipeline records in one sink's runner
    /// only, so a metric is counted once however many sinks there are).
    let records: Bool

    init(definitions: [MetricDefinition], registry: PipelineMetrics, records: Bool) throws(PipelineError) {
        var compiled: [Compiled] = []
        for definition in definitions {
            try definition.validate()
            try registry.declare(
                name: definition.name, kind: definition.kind, help: definition.help, labelNames: definition.labels.map(\.name),
                buckets: definition.buckets, maxSeries: definition.maxSeries)
            compiled.append(Compiled(definition: definition, condition: try definition.when.map { (c) throws(PipelineError) in try Condition(c) }))
        }
        metrics = compiled
        self.registry = registry
        self.records = records
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        guard records, context.counting else { return }
        for metric in metrics {
            if let condition = metric.condition, !condition.evaluate(event) { continue }
            let definition = metric.definition
            var amount = 1.0
            if let field = definition.valueField, [.add, .set, .sub, .observe].contains(definition.action) {
                guard let value = event.withText(at: field, { $0.flatMap(ValueConversion.parseDouble) }), value.isFinite else { continue }
                amount = value
            }
            var key: [UInt8] = []
            for label in definition.labels {
                event.withText(at: label.field) { if let text = $0 { MetricLabelValue.append(text, to: &key) } }
                key.append(0xFF)
            }
            let update: PipelineMetrics.Update
            switch definition.action {
            case .inc: update = .add(1)
            case .dec: update = .add(-1)
            case .add: update = .add(amount)
            case .sub: update = .add(-amount)
            case .set: update = .set(amount)
            case .observe: update = .observe(amount)
            }
            registry.record(definition.name, key: key, labelValues: Self.split(key), update)
        }
    }

    private static func split(_ key: [UInt8]) -> [String] {
        key.split(separator: 0xFF, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }
}
