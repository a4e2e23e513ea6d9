import Foundation
import LogBridgeCore
import LogBridgePipeline
import Yams

/// Decoding of `pipeline:` lists (top level and per sink): one `- type: NAME` mapping per
/// processor, options checked per type, each processor built once to check patterns, formats
/// and routes, with errors reported at the processor's key path and line.
extension LogBridgeConfiguration {
    static let processorKeys: [String: [String]] = [
        "cri": ["field", "target", "stream_field", "tag_field", "key_fields", "max_bytes", "flush_timeout", "set_time"],
        "json": ["field", "target", "remove_source"],
        "regex": ["field", "target", "pattern"],
        "logfmt": ["field", "target"],
        "kv": ["field", "target", "field_split", "value_split", "trim_quotes"],
        "csv": ["field", "target", "columns", "separator", "quote", "skip_header"],
        "convert": ["fields"],
        "timestamp": ["field", "format", "formats", "timezone", "target"],
        "set": ["field", "value", "template", "only_if_missing"],
        "rename": ["fields"],
        "remove": ["fields"],
        "keep": ["fields"],
        "filter": ["when"],
        "drop": ["when"],
        "route": ["rules", "default"],
        "metrics": ["metrics"],
        "redact": ["detectors", "custom", "mode", "modes", "hash_key", "hash_length", "fields"],
    ]

    static func decodePipeline(_ node: Node?, _ path: String, topLevel: Bool, sinkNames: [String], _ r: ConfigReader) -> PipelineConfiguration {
        guard let node else { return PipelineConfiguration() }
        // A dry run resolves the pipeline's references as `run` does (see DryRunLoading).
        r.pipelineDepth += 1
        defer { r.pipelineDepth -= 1 }
        guard case .sequence(let sequence) = node else {
            r.report(path, node, "expected a list of processors (- type: NAME ...)")
            return PipelineConfiguration()
        }
        var processors: [ProcessorConfiguration] = []
        for (index, element) in sequence.enumerated() {
            let at = "\(path)[\(index)]"
            guard let processor = decodeProcessor(element, at, r) else { continue }
            if case .cri = processor, !(topLevel && index == 0) {
                r.report(at, element, "cri must be the first processor of the top-level pipeline: it joins records before anything else reads them")
                continue
            }
            do {
                try processor.validate(sinkNames: sinkNames)
            } catch {
                r.report(at, element, "\(processor.typeName): \(error.message)")
                continue
            }
            processors.append(processor)
        }
        return PipelineConfiguration(processors)
    }

    private static func decodeProcessor(_ node: Node, _ path: String, _ r: ConfigReader) -> ProcessorConfiguration? {
        guard case .mapping = node else {
            r.report(path, node, "expected a mapping with at least 'type'")
            return nil
        }
        let typeNode = r.mapping(node, path)?.first { $0.key == "type" }?.value
        guard let type = r.string(typeNode, "\(path).type") else {
            if typeNode == nil { r.report("\(path).type", node, "required key is missing (one of: \(ProcessorConfiguration.typeNames.joined(separator: ", ")))") }
            return nil
        }
        guard let allowed = processorKeys[type] else {
            r.report("\(path).type", typeNode, "unknown processor type '\(type)' (one of: \(ProcessorConfiguration.typeNames.joined(separator: ", ")))")
            return nil
        }
        guard let entries = r.mapping(node, path, allowed: ["type"] + allowed) else { return nil }
        let p = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let d = ProcessorDecoder(p: p, path: path, node: node, r: r)
        switch type {
        case "cri": return d.cri()
        case "json":
            return .json(ParseJSONOptions(
                field: d.field("field", default: "log"), target: d.optionalField("target"),
                removeSource: r.bool(p["remove_source"], "\(path).remove_source") ?? false))
        case "regex":
            guard let pattern = r.require(r.string(p["pattern"], "\(path).pattern"), p["pattern"], "\(path).pattern", parent: node) else { return nil }
            return .regex(RegexOptions(extract: d.extract(defaultField: "log"), pattern: pattern))
        case "logfmt": return .logfmt(d.extract(defaultField: "log"))
        case "kv":
            return .kv(KeyValueOptions(
                extract: d.extract(defaultField: "log"),
                fieldSeparator: d.separator("field_split") ?? " ", valueSeparator: d.separator("value_split") ?? "=",
                trimQuotes: r.bool(p["trim_quotes"], "\(path).trim_quotes") ?? true))
        case "csv": return d.csv()
        case "convert":
            guard let entries = r.require(r.mapping(p["fields"], "\(path).fields"), p["fields"], "\(path).fields", parent: node) else { return nil }
            var fields: [(FieldPath, ConversionType)] = []
            for entry in entries {
                guard let field = d.path(entry.key, at: "\(path).fields", entry.keyNode),
                    let type = r.choice(entry.value, "\(path).fields.\(entry.key)", as: ConversionType.self)
                else { continue }
                fields.append((field, type))
            }
            return .convert(fields)
        case "timestamp": return d.timestamp()
        case "set": return d.set()
        case "rename":
            guard let entries = r.require(r.mapping(p["fields"], "\(path).fields"), p["fields"], "\(path).fields", parent: node) else { return nil }
            var pairs: [(FieldPath, FieldPath)] = []
            for entry in entries {
                guard let from = d.path(entry.key, at: "\(path).fields", entry.keyNode),
                    let toText = r.string(entry.value, "\(path).fields.\(entry.key)"),
                    let to = d.path(toText, at: "\(path).fields.\(entry.key)", entry.value)
                else { continue }
                pairs.append((from, to))
            }
            return .rename(pairs)
        case "remove", "keep":
            guard let list = r.require(r.stringList(p["fields"], "\(path).fields"), p["fields"], "\(path).fields", parent: node) else { return nil }
            let fields = list.compactMap { d.path($0, at: "\(path).fields", p["fields"]) }
            return type == "remove" ? .remove(fields) : .keep(fields)
        case "filter", "drop":
            guard let whenNode = p["when"] else {
                r.report("\(path).when", node, "required key is missing")
                return nil
            }
            guard let condition = d.condition(whenNode, "\(path).when") else { return nil }
            return type == "filter" ? .filter(condition) : .drop(condition)
        case "route": return d.route()
        case "metrics": return d.metrics()
        default: return d.redact()
        }
    }
}

/// Option decoding shared by the processor types.
private struct ProcessorDecoder {
    let p: [String: Node]
    let path: String
    let node: Node
    let r: ConfigReader

    /// - Parameter readsMetadata: the path is only read (conditions, metrics labels), so Kafka
    ///   metadata (`%kafka.topic`) may stand in for a field; everywhere else it is refused.
    func path(_ text: String, at key: String, _ node: Node?, readsMetadata: Bool = false) -> FieldPath? {
        do {
            let path = try FieldPath(text)
            if path.isMetadata, !readsMetadata {
                r.report(key, node, "'\(text)' is Kafka metadata, which is read-only here; read it in conditions (when: field:), set templates ({\(text)}) and metrics labels")
                return nil
            }
            return path
        } catch {
            r.report(key, node, error.message)
            return nil
        }
    }

    func field(_ key: String, default fallback: String) -> FieldPath {
        optionalField(key) ?? (try! FieldPath(fallback))
    }

    func optionalField(_ key: String) -> FieldPath? {
        guard let text = r.string(p[key], "\(path).\(key)") else { return nil }
        return path(text, at: "\(path).\(key)", p[key])
    }

    func extract(defaultField: String) -> ExtractOptions {
        ExtractOptions(field: field("field", default: defaultField), target: optionalField("target") ?? .root)
    }

    /// A separator string; `\t` written as the two characters `\t` means a tab.
    func separator(_ key: String) -> String? {
        guard let text = r.string(p[key], "\(path).\(key)") else { return nil }
        let value = text.replacingOccurrences(of: "\\t", with: "\t")
        if value.isEmpty { r.report("\(path).\(key)", p[key], "must not be empty") }
        return value
    }

    func byte(_ key: String, default fallback: UInt8) -> UInt8 {
        guard let text = separator(key) else { return fallback }
        guard text.utf8.count == 1 else {
            r.report("\(path).\(key)", p[key], "must be a single character, found \(r.written(p[key]))")
            return fallback
        }
        return text.utf8.first!
    }

    func cri() -> ProcessorConfiguration {
        var options = CRIOptions(field: field("field", default: "log"), streamField: try! FieldPath("stream"))
        options.target = optionalField("target")
        if let stream = r.string(p["stream_field"], "\(path).stream_field") {
            options.streamField = stream.isEmpty ? nil : path(stream, at: "\(path).stream_field", p["stream_field"])
        }
        options.tagField = optionalField("tag_field")
        let keys = r.stringList(p["key_fields"], "\(path).key_fields") ?? CRIOptions.defaultKeyFields
        options.keyFields = keys.compactMap { path($0, at: "\(path).key_fields", p["key_fields"]) }
        if let value = r.byteSize(p["max_bytes"], "\(path).max_bytes", range: ConfigurationLimits.criMaxBytes) { options.maxBytes = value }
        if let value = r.duration(p["flush_timeout"], "\(path).flush_timeout", range: ConfigurationLimits.criFlushTimeout) {
            options.flushTimeout = value
        }
        if let value = r.bool(p["set_time"], "\(path).set_time") { options.setTime = value }
        return .cri(options)
    }

    func csv() -> ProcessorConfiguration {
        .csv(CSVOptions(
            extract: extract(defaultField: "message"), columns: r.stringList(p["columns"], "\(path).columns") ?? [],
            separator: byte("separator", default: UInt8(ascii: ",")), quote: byte("quote", default: UInt8(ascii: "\"")),
            skipHeader: r.bool(p["skip_header"], "\(path).skip_header") ?? false))
    }

    func timestamp() -> ProcessorConfiguration {
        var texts = r.stringList(p["formats"], "\(path).formats") ?? []
        if let single = r.string(p["format"], "\(path).format") { texts.insert(single, at: 0) }
        if texts.isEmpty { texts = ["rfc3339"] }
        var formats: [TimestampFormat] = []
        for text in texts {
            do { formats.append(try TimestampFormat(text)) } catch {
                r.report("\(path).\(p["format"] != nil ? "format" : "formats")", p["format"] ?? p["formats"], error.message)
            }
        }
        var zone = TimeZoneRule.utc
        if let text = r.string(p["timezone"], "\(path).timezone") {
            do { zone = try TimeZoneRule(text) } catch {
                r.report("\(path).timezone", p["timezone"], error.message)
            }
        }
        return .timestamp(TimestampOptions(field: field("field", default: "time"), formats: formats, timezone: zone, target: optionalField("target")))
    }

    func set() -> ProcessorConfiguration? {
        guard let target = r.require(optionalField("field"), p["field"], "\(path).field", parent: node) else { return nil }
        let onlyIfMissing = r.bool(p["only_if_missing"], "\(path).only_if_missing") ?? false
        if let template = r.string(p["template"], "\(path).template") {
            do { try SetValue.check(template: template) } catch {
                r.report("\(path).template", p["template"], error.message)
                return nil
            }
            if p["value"] != nil { r.report("\(path).value", p["value"], "set either value or template, not both") }
            return .set(field: target, value: .template(template), onlyIfMissing: onlyIfMissing)
        }
        guard let valueNode = p["value"] else {
            r.report("\(path).value", node, "required key is missing (or set template)")
            return nil
        }
        guard case .scalar(let scalar) = valueNode else {
            r.report("\(path).value", valueNode, "expected a string, number, boolean or null")
            return nil
        }
        // YAML's own typing: quoted text stays a string; plain 42, true, null keep their type.
        if scalar.style == .plain {
            let text = scalar.string
            if text == "null" || text == "~" { return .set(field: target, value: .null, onlyIfMissing: onlyIfMissing) }
            if text == "true" || text == "false" { return .set(field: target, value: .bool(text == "true"), onlyIfMissing: onlyIfMissing) }
            if Double(text) != nil, text.first.map({ $0 == "-" || $0.isNumber }) == true, !text.hasPrefix("0") || text == "0" || text.hasPrefix("0.") {
                return .set(field: target, value: .number(text), onlyIfMissing: onlyIfMissing)
            }
        }
        guard let text = r.string(valueNode, "\(path).value") else { return nil }
        return .set(field: target, value: .string(text), onlyIfMissing: onlyIfMissing)
    }

    func route() -> ProcessorConfiguration? {
        guard case .sequence(let rules)? = p["rules"] else {
            r.report("\(path).rules", p["rules"] ?? node, "expected a list of rules (- when: ..., sinks: [...])")
            return nil
        }
        var decoded: [RouteRule] = []
        for (index, rule) in rules.enumerated() {
            let at = "\(path).rules[\(index)]"
            guard let entries = r.mapping(rule, at, allowed: ["when", "sinks"]) else { continue }
            let e = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let whenNode = e["when"] else { r.report("\(at).when", rule, "required key is missing"); continue }
            guard let condition = condition(whenNode, "\(at).when"),
                let sinks = r.require(r.stringList(e["sinks"], "\(at).sinks"), e["sinks"], "\(at).sinks", parent: rule)
            else { continue }
            decoded.append(RouteRule(when: condition, sinks: sinks))
        }
        return .route(rules: decoded, fallback: r.stringList(p["default"], "\(path).default"))
    }

    func metrics() -> ProcessorConfiguration? {
        guard case .sequence(let list)? = p["metrics"] else {
            r.report("\(path).metrics", p["metrics"] ?? node, "expected a list of metrics (- name: ..., type: counter)")
            return nil
        }
        var definitions: [MetricDefinition] = []
        for (index, item) in list.enumerated() {
            let at = "\(path).metrics[\(index)]"
            let allowed = ["name", "type", "help", "labels", "when", "value_field", "action", "buckets", "max_series"]
            guard let entries = r.mapping(item, at, allowed: allowed) else { continue }
            let m = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            guard let name = r.require(r.string(m["name"], "\(at).name"), m["name"], "\(at).name", parent: item),
                let kind = r.require(r.choice(m["type"], "\(at).type", as: PipelineMetrics.Kind.self), m["type"], "\(at).type", parent: item)
            else { continue }
            var labels: [MetricDefinition.Label] = []
            for entry in r.mapping(m["labels"], "\(at).labels") ?? [] {
                guard let text = r.string(entry.value, "\(at).labels.\(entry.key)"),
                    let field = path(text, at: "\(at).labels.\(entry.key)", entry.value, readsMetadata: true)
                else { continue }
                labels.append(MetricDefinition.Label(name: entry.key, field: field))
            }
            var condition: ConditionConfiguration?
            if let whenNode = m["when"] { condition = self.condition(whenNode, "\(at).when") }
            var valueField: FieldPath?
            if let text = r.string(m["value_field"], "\(at).value_field") { valueField = path(text, at: "\(at).value_field", m["value_field"], readsMetadata: true) }
            var buckets = MetricDefinition.defaultBuckets
            if let texts = r.stringList(m["buckets"], "\(at).buckets") {
                // NaN and infinities make no bucket bound (+Inf is always added when rendered).
                let values = texts.compactMap(Double.init).filter(\.isFinite)
                if values.count != texts.count || values.isEmpty {
                    r.report("\(at).buckets", m["buckets"], "expected a list of finite numbers")
                } else {
                    buckets = values
                }
            }
            definitions.append(MetricDefinition(
                name: name, kind: kind, help: r.string(m["help"], "\(at).help") ?? "", labels: labels, when: condition, valueField: valueField,
                action: r.choice(m["action"], "\(at).action", as: MetricDefinition.Action.self), buckets: buckets,
                maxSeries: r.int(m["max_series"], "\(at).max_series", range: ConfigurationLimits.maxSeries) ?? 1000))
        }
        return .metrics(definitions)
    }

    func redact() -> ProcessorConfiguration? {
        var rules = RedactionRules()
        if let names = r.stringList(p["detectors"], "\(path).detectors") {
            var detectors: [BuiltInDetector] = []
            for name in names {
                if let detector = BuiltInDetector(rawValue: name) { detectors.append(detector) } else {
                    // A name from ${env:} is replaced by its reference in the report (ConfigReader.scrubbed).
                    r.report("\(path).detectors", p["detectors"], "unknown detector '\(name)' (built in: \(BuiltInDetector.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
            }
            rules.detectors = detectors
        }
        if let customNode = p["custom"] {
            if case .sequence(let list) = customNode {
                for (index, item) in list.enumerated() {
                    let at = "\(path).custom[\(index)]"
                    guard let entries = r.mapping(item, at, allowed: ["name", "pattern"]) else { continue }
                    let c = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
                    guard let name = r.require(r.string(c["name"], "\(at).name"), c["name"], "\(at).name", parent: item),
                        let pattern = r.require(r.string(c["pattern"], "\(at).pattern"), c["pattern"], "\(at).pattern", parent: item)
                    else { continue }
                    rules.custom.append(CustomDetector(name: name, pattern: pattern))
                }
            } else {
                r.report("\(path).custom", customNode, "expected a list of detectors (- name: ..., pattern: ...)")
            }
        }
        if let mode = r.choice(p["mode"], "\(path).mode", as: RedactionMode.self) { rules.mode = mode }
        for entry in r.mapping(p["modes"], "\(path).modes") ?? [] {
            if let mode = r.choice(entry.value, "\(path).modes.\(entry.key)", as: RedactionMode.self) { rules.modeOverrides[entry.key] = mode }
        }
        if let file = r.dryRun?.hashKeyFile {
            // `pipeline test --hash-key-file`: the operator's key instead of the configured one.
            switch SecretFile.read(file) {
            case .success(let contents):
                let key = String(decoding: contents.bytes, as: UTF8.self).trimmingWhitespace()
                if key.utf8.count < 16 { r.report("--hash-key-file", nil, "\(file): the key must be at least 16 bytes") }
                rules.hashKey = Array(key.utf8)
            case .failure(let problem):
                r.report("--hash-key-file", nil, "cannot read \(file): \(problem.description)")
            }
        } else if let key = r.string(
            p["hash_key"], "\(path).hash_key", secret: true,
            dryRunPlaceholder: DryRunPlaceholder(
                value: DryRunLoading.placeholderHashKey,
                notice: "hashing with a placeholder key, so hashed values differ from the gateway's (give the key with --hash-key-file)"))
        {
            if key.utf8.count < 16 { r.report("\(path).hash_key", p["hash_key"], "must be at least 16 bytes (use ${file:/path/to/key})") }
            rules.hashKey = Array(key.utf8)
        }
        if let length = r.int(p["hash_length"], "\(path).hash_length", range: ConfigurationLimits.hashLength) { rules.hashLength = length }
        var fields: [FieldPath]?
        if let list = r.stringList(p["fields"], "\(path).fields") { fields = list.compactMap { path($0, at: "\(path).fields", p["fields"]) } }
        return .redact(RedactOptions(rules: rules, fields: fields))
    }

    static let operators = ["equals", "not_equals", "in", "matches", "contains", "exists", "gt", "gte", "lt", "lte"]

    /// `{field: F, OPERATOR: VALUE}` or `{and: [...]}`, `{or: [...]}`, `{not: {...}}`.
    func condition(_ node: Node, _ at: String) -> ConditionConfiguration? {
        guard let entries = r.mapping(node, at, allowed: ["field", "and", "or", "not"] + Self.operators) else { return nil }
        let c = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        for combinator in ["and", "or"] {
            guard let listNode = c[combinator] else { continue }
            guard entries.count == 1 else { r.report(at, node, "'\(combinator)' stands alone in its mapping"); return nil }
            guard case .sequence(let list) = listNode, !list.isEmpty else {
                r.report("\(at).\(combinator)", listNode, "expected a non-empty list of conditions")
                return nil
            }
            let inner = list.enumerated().compactMap { condition($1, "\(at).\(combinator)[\($0)]") }
            guard inner.count == list.count else { return nil }
            return combinator == "and" ? .and(inner) : .or(inner)
        }
        if let innerNode = c["not"] {
            guard entries.count == 1 else { r.report(at, node, "'not' stands alone in its mapping"); return nil }
            return condition(innerNode, "\(at).not").map { .not($0) }
        }
        guard let fieldText = r.require(r.string(c["field"], "\(at).field"), c["field"], "\(at).field", parent: node),
            let field = path(fieldText, at: "\(at).field", c["field"], readsMetadata: true)
        else { return nil }
        let ops = entries.filter { Self.operators.contains($0.key) }
        guard ops.count == 1, let op = ops.first else {
            r.report(at, node, "expected exactly one test (\(Self.operators.joined(separator: ", ")))")
            return nil
        }
        let opPath = "\(at).\(op.key)"
        switch op.key {
        case "equals": return r.string(op.value, opPath).map { .equals(field, $0) }
        case "not_equals": return r.string(op.value, opPath).map { .notEquals(field, $0) }
        case "in": return r.stringList(op.value, opPath).map { .oneOf(field, $0) }
        case "matches": return r.string(op.value, opPath).map { .matches(field, $0) }
        case "contains": return r.string(op.value, opPath).map { .contains(field, $0) }
        case "exists": return r.bool(op.value, opPath).map { .exists(field, $0) }
        default:
            guard let text = r.string(op.value, opPath), let bound = Double(text) else {
                r.report(opPath, op.value, "expected a number")
                return nil
            }
            return .compare(field, NumericComparison(rawValue: op.key)!, bound)
        }
    }
}
