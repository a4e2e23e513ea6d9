import LogBridgeCore

/// Where an extracting processor reads its text and writes its fields.
public struct ExtractOptions: Sendable, Equatable {
    public var field: FieldPath
    /// Object receiving the fields; the root by default.
    public var target: FieldPath

    public init(field: FieldPath, target: FieldPath = .root) {
        self.field = field
        self.target = target
    }
}

/// Shared plumbing: copy the source text out of the event (it is about to grow), find the
/// target object, hand both to the parser.
extension EventProcessor {
    func extract(
        _ event: Event, _ context: ProcessingContext, _ options: ExtractOptions,
        _ body: (UnsafeRawBufferPointer, Int32, inout [UInt8]) -> Void
    ) {
        guard let node = event.lookup(options.field) else { return }
        var text: [UInt8] = []
        swap(&text, &context.scratch)
        defer { swap(&text, &context.scratch) }
        text.removeAll(keepingCapacity: true)
        event.appendText(of: node, to: &text)
        let target = event.makeObject(options.target)
        text.withUnsafeBytes { body($0, target, &context.scratch2) }
    }
}

/// `regex`: named captures (`(?P<level>\w+)` or `(?<level>…)`) into fields, as Promtail's regex
/// stage. PCRE2 with JIT; no match leaves the event as it was.
public struct RegexOptions: Sendable, Equatable {
    public var extract: ExtractOptions
    public var pattern: String
    public init(extract: ExtractOptions, pattern: String) {
        self.extract = extract
        self.pattern = pattern
    }
}

final class RegexProcessor: EventProcessor {
    let options: RegexOptions
    let pattern: PCRE2Pattern
    let names: [(name: [UInt8], number: Int)]

    init(_ options: RegexOptions) throws(PipelineError) {
        self.options = options
        do {
            pattern = try PCRE2Pattern(options.pattern)
        } catch {
            throw PipelineError("bad pattern: \(error.message)")
        }
        names = pattern.groupNames.map { (Array($0.name.utf8), $0.number) }
        guard !names.isEmpty else { throw PipelineError("the pattern has no named group ((?P<name>...)): nothing to extract") }
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        guard let node = event.lookup(options.extract.field) else { return }
        var text: [UInt8] = []
        swap(&text, &context.scratch)
        defer { swap(&text, &context.scratch) }
        text.removeAll(keepingCapacity: true)
        event.appendText(of: node, to: &text)
        text.withUnsafeBytes { subject in
            guard let groups = pattern.firstMatch(in: subject) else { return }
            let target = event.makeObject(options.extract.target)
            for (name, number) in names where number < groups.count {
                guard let range = groups[number] else { continue }
                name.withUnsafeBytes { key in
                    event.setMember(of: target, key: key, string: UnsafeRawBufferPointer(rebasing: subject[range]))
                }
            }
        }
    }
}

/// `logfmt`: `level=info msg="hello world" duration=12ms`.
final class LogfmtProcessor: EventProcessor {
    let options: ExtractOptions
    init(_ options: ExtractOptions) { self.options = options }

    func process(_ event: Event, _ context: ProcessingContext) {
        extract(event, context, options) { text, target, scratch in
            LogfmtParser.forEachPair(in: text, scratch: &scratch) { event.setPair(of: target, key: $0, value: $1) }
        }
    }
}

/// `kv`: key/value pairs with configurable separators, as Logstash's kv filter.
public struct KeyValueOptions: Sendable, Equatable {
    public var extract: ExtractOptions
    public var fieldSeparator: String
    public var valueSeparator: String
    public var trimQuotes: Bool
    public init(extract: ExtractOptions, fieldSeparator: String = " ", valueSeparator: String = "=", trimQuotes: Bool = true) {
        self.extract = extract
        self.fieldSeparator = fieldSeparator
        self.valueSeparator = valueSeparator
        self.trimQuotes = trimQuotes
    }
}

final class KeyValueProcessor: EventProcessor {
    let options: KeyValueOptions
    let parser: KeyValueParser

    init(_ options: KeyValueOptions) throws(PipelineError) {
        guard !options.fieldSeparator.isEmpty, !options.valueSeparator.isEmpty else {
            throw PipelineError("field_split and value_split must not be empty")
        }
        self.options = options
        parser = KeyValueParser(
            fieldSeparator: Array(options.fieldSeparator.utf8), valueSeparator: Array(options.valueSeparator.utf8),
            trimQuotes: options.trimQuotes)
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        extract(event, context, options.extract) { text, target, scratch in
            parser.forEachPair(in: text, scratch: &scratch) { event.setPair(of: target, key: $0, value: $1) }
        }
    }
}

/// `csv`: one line of delimited values into named columns, as Logstash's csv filter. Columns
/// beyond the named ones are called `column<N>` (1-based, as Logstash does).
public struct CSVOptions: Sendable, Equatable {
    public var extract: ExtractOptions
    public var columns: [String]
    public var separator: UInt8
    public var quote: UInt8
    /// Drop the event when its values equal the column names (a header line).
    public var skipHeader: Bool
    public init(extract: ExtractOptions, columns: [String], separator: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""), skipHeader: Bool = false) {
        self.extract = extract
        self.columns = columns
        self.separator = separator
        self.quote = quote
        self.skipHeader = skipHeader
    }
}

final class CSVProcessor: EventProcessor {
    let options: CSVOptions
    let parser: CSVParser
    let columns: [[UInt8]]

    init(_ options: CSVOptions) {
        self.options = options
        parser = CSVParser(separator: options.separator, quote: options.quote)
        columns = options.columns.map { Array($0.utf8) }
    }

    func process(_ event: Event, _ context: ProcessingContext) {
        if options.skipHeader, isHeader(event, context) {
            event.isDropped = true
            return
        }
        extract(event, context, options.extract) { text, target, scratch in
            parser.forEachField(in: text, scratch: &scratch) { index, field in
                if index < columns.count {
                    columns[index].withUnsafeBytes { event.setMember(of: target, key: $0, string: field) }
                } else {
                    var name = Array("column".utf8)
                    JSONBytes.appendInteger(Int64(index + 1), to: &name)
                    name.withUnsafeBytes { event.setMember(of: target, key: $0, string: field) }
                }
            }
        }
    }

    private func isHeader(_ event: Event, _ context: ProcessingContext) -> Bool {
        guard !columns.isEmpty, let node = event.lookup(options.extract.field) else { return false }
        context.scratch.removeAll(keepingCapacity: true)
        event.appendText(of: node, to: &context.scratch)
        var matches = true
        var seen = 0
        context.scratch.withUnsafeBytes { text in
            parser.forEachField(in: text, scratch: &context.scratch2) { index, field in
                seen += 1
                if index >= columns.count || !field.elementsEqual(columns[index]) { matches = false }
            }
        }
        return matches && seen == columns.count
    }
}

