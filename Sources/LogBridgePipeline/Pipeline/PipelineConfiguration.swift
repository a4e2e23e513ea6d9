/// An ordered list of processors: the top-level `pipeline:` (every event) or a sink's own
/// `sinks.NAME.pipeline:` (after the shared one).
public struct PipelineConfiguration: Sendable {
    public var processors: [ProcessorConfiguration]
    public init(_ processors: [ProcessorConfiguration] = []) { self.processors = processors }
    public var isEmpty: Bool { processors.isEmpty }
}

/// One processor and its options (`- type: NAME` plus options in the YAML).
public enum ProcessorConfiguration: Sendable {
    case cri(CRIOptions)
    case json(ParseJSONOptions)
    case regex(RegexOptions)
    case logfmt(ExtractOptions)
    case kv(KeyValueOptions)
    case csv(CSVOptions)
    case convert([(FieldPath, ConversionType)])
    case timestamp(TimestampOptions)
    case set(field: FieldPath, value: SetValue, onlyIfMissing: Bool)
    case rename([(FieldPath, FieldPath)])
    case remove([FieldPath])
    case keep([FieldPath])
    case filter(ConditionConfiguration)
    case drop(ConditionConfiguration)
    case route(rules: [RouteRule], fallback: [String]?)
    case metrics([MetricDefinition])
    case redact(RedactOptions)

    /// The `type:` name.
    public var typeName: String {
        switch self {
        case .cri: "cri"
        case .json: "json"
        case .regex: "regex"
        case .logfmt: "logfmt"
        case .kv: "kv"
        case .csv: "csv"
        case .convert: "convert"
        case .timestamp: "timestamp"
        case .set: "set"
        case .rename: "rename"
        case .remove: "remove"
        case .keep: "keep"
        case .filter: "filter"
        case .drop: "drop"
        case .route: "route"
        case .metrics: "metrics"
        case .redact: "redact"
        }
    }

    public static let typeNames = [
        "cri", "json", "regex", "logfmt", "kv", "csv", "convert", "timestamp", "set", "rename", "remove", "keep", "filter",
        "drop", "route", "metrics", "redact",
    ]
}

/// Builds processors from their configuration.
struct ProcessorFactory {
    let sinkNames: [String]
    let metrics: PipelineMetrics
    /// Whether `metrics` processors built here record (see ``MetricsProcessor/records``).
    let recordsMetrics: Bool

    func make(_ configuration: ProcessorConfiguration) throws(PipelineError) -> any EventProcessor {
        switch configuration {
        case .cri: throw PipelineError("cri must be the first processor of the top-level pipeline")
        case .json(let options): return ParseJSONProcessor(options)
        case .regex(let options): return try RegexProcessor(options)
        case .logfmt(let options): return LogfmtProcessor(options)
        case .kv(let options): return try KeyValueProcessor(options)
        case .csv(let options): return CSVProcessor(options)
        case .convert(let fields): return ConvertProcessor(fields: fields)
        case .timestamp(let options): return try TimestampProcessor(options)
        case .set(let field, let value, let onlyIfMissing): return try SetProcessor(field: field, value: value, onlyIfMissing: onlyIfMissing)
        case .rename(let pairs): return RenameProcessor(pairs: pairs)
        case .remove(let fields): return RemoveProcessor(fields: fields)
        case .keep(let fields): return KeepProcessor(fields: fields)
        case .filter(let condition): return FilterProcessor(condition: try Condition(condition), keepMatching: true)
        case .drop(let condition): return FilterProcessor(condition: try Condition(condition), keepMatching: false)
        case .route(let rules, let fallback): return try RouteProcessor(rules: rules, fallback: fallback, sinkNames: sinkNames)
        case .metrics(let definitions): return try MetricsProcessor(definitions: definitions, registry: metrics, records: recordsMetrics)
        case .redact(let options): return try RedactProcessor(options)
        }
    }
}

extension ProcessorConfiguration {
    /// Builds the processor once to check what the configuration reader cannot: patterns compile,
    /// formats parse, routes name existing sinks, metric shapes agree.
    public func validate(sinkNames: [String]) throws(PipelineError) {
        if case .cri = self { return }
        _ = try ProcessorFactory(sinkNames: sinkNames, metrics: PipelineMetrics(), recordsMetrics: false).make(self)
    }
}
