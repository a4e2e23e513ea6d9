import LogBridgeCore

/// A value `set` writes.
public enum SetValue: Sendable, Equatable {
    case string(String)
    /// JSON number text (validated when the configuration is read).
    case number(String)
    case bool(Bool)
    case null
    /// Text with `{field.path}` placeholders filled from the event (missing fields: empty);
    /// `{%kafka.topic}` and the other metadata names read the record's Kafka metadata.
    case template(String)
}

extension SetValue {
    /// Checks a `template` when the configuration is read, so an unknown field path or metadata
    /// name is reported with its line.
    public static func check(template: String) throws(PipelineError) {
        _ = try SetProcessor.parse(template: template)
    }
}

/// `set`: writes a constant or a template into a field.
final class SetProcessor: EventProcessor {
    enum Part {
        case literal([UInt8])
        case field(FieldPath)
    }

    let field: FieldPath
    let value: SetValue
    let onlyIfMissing: Bool
    private let parts: [Part]
    private let bytes: [UInt8]

    init(field: FieldPath, value: SetValue, onlyIfMissing: Bool = false) throws(PipelineError) {
        self.field = field
        self.value = value
        self.onlyIfMissing = onlyIfMissing
        switch value {
        case .string(let text), .number(let text):
            bytes = Array(text.utf8)
            parts = []
        case .template(let text):
            bytes = []
            parts = try Self.parse(template: text)
        case .bool, .null:
            bytes = []
            parts = []
        }
    }

    static func parse(template: String) throws(PipelineError) -> [Part] {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(Array(rest[..<open].utf8))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw PipelineError("unclosed '{' in template '\(template)'")
            }
            parts.append(.field(try FieldPath(String(rest[rest.index(after: open)..<close]))))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(Array(rest.utf8))) }
        return parts
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        if onlyIfMissing, event.lookup(field) != nil { return }
        switch value {
        case .string: bytes.withUnsafeBytes { event.set(field, .string($0)) }
        case .number: bytes.withUnsafeBytes { event.set(field, .number($0)) }
        case .bool(let flag): event.set(field, .bool(flag))
        case .null: event.set(field, .null)
        case .template:
            var text: [UInt8] = []
            swap(&text, &context.scratch)
            defer { swap(&text, &context.scratch) }
            text.removeAll(keepingCapacity: true)
            for part in parts {
                switch part {
                case .literal(let literal): text.append(contentsOf: literal)
                case .field(let path):
                    event.appendText(at: path, to: &text)
                }
            }
            text.withUnsafeBytes { event.set(field, .string($0)) }
        }
    }
}

/// `rename`: moves fields (`from: to` pairs, in order).
final class RenameProcessor: EventProcessor {
    let pairs: [(FieldPath, FieldPath)]
    init(pairs: [(FieldPath, FieldPath)]) { self.pairs = pairs }

    func process(_ event: Event, _ context: ProcessingContext) {
        for (from, to) in pairs { event.rename(from, to: to) }
    }
}

/// `remove`: deletes fields.
final class RemoveProcessor: EventProcessor {
    let fields: [FieldPath]
    init(fields: [FieldPath]) { self.fields = fields }

    func process(_ event: Event, _ context: ProcessingContext) {
        for field in fields { event.remove(field) }
    }
}

/// `keep`: deletes every field but these (and the objects that hold them).
final class KeepProcessor: EventProcessor {
    let fields: [FieldPath]
    init(fields: [FieldPath]) { self.fields = fields }

    func process(_ event: Event, _ context: ProcessingContext) {
        event.keepOnly(fields)
    }
}

/// `filter` (keep events that match) and `drop` (drop events that match).
final class FilterProcessor: EventProcessor {
    let condition: Condition
    let keepMatching: Bool

    init(condition: Condition, keepMatching: Bool) {
        self.condition = condition
        self.keepMatching = keepMatching
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        if condition.evaluate(event) != keepMatching { event.isDropped = true }
    }
}

/// One `route` rule: events matching `when` go to `sinks`.
public struct RouteRule: Sendable, Equatable {
    public var when: ConditionConfiguration
    public var sinks: [String]
    public init(when: ConditionConfiguration, sinks: [String]) {
        self.when = when
        self.sinks = sinks
    }
}

/// `route`: the first matching rule chooses the sinks an event goes to; events matching no rule
/// go to `default` (every sink when not set).
final class RouteProcessor: EventProcessor {
    let rules: [(Condition, UInt64)]
    let fallback: UInt64

    init(rules: [RouteRule], fallback: [String]?, sinkNames: [String]) throws(PipelineError) {
        func mask(_ names: [String]) throws(PipelineError) -> UInt64 {
            var mask: UInt64 = 0
            for name in names {
                guard let index = sinkNames.firstIndex(of: name) else {
                    throw PipelineError("route names sink '\(name)', which is not configured (sinks: \(sinkNames.joined(separator: ", ")))")
                }
                guard index < 64 else { throw PipelineError("routes address the first 64 sinks only") }
                mask |= 1 << UInt64(index)
            }
            return mask
        }
        var compiled: [(Condition, UInt64)] = []
        for rule in rules { compiled.append((try Condition(rule.when), try mask(rule.sinks))) }
        self.rules = compiled
        self.fallback = try fallback.map { (names) throws(PipelineError) in try mask(names) } ?? .max
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        for (condition, mask) in rules where condition.evaluate(event) {
            event.routes &= mask
            return
        }
        event.routes &= fallback
    }
}
