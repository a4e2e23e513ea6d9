import LogBridgeCore

/// Builds HEC event bodies: one JSON object per record, newline-separated, no array around them.
///
/// `{"time":1700000000.123,"host":…,"source":…,"sourcetype":…,"index":…,"event":…,"fields":{"event_id":"topic-partition-offset",…}}`
///
/// The encoding depends only on the record, so a batch sent again (after an acknowledgement
/// deadline) has the same bytes. A value that is valid JSON is sent as JSON (`sourcetype: _json`
/// gets its fields); anything else as a JSON string.
///
/// A record that is a JSON object is read once: one pass validates it and finds the top-level
/// members every template reads (`JSONBytes.isValidObject(_:noting:into:)`).
struct HECEventEncoder: Sendable {
    let configuration: SplunkHECSinkConfiguration
    /// Every template's top-level keys, one after the other: the metadata's (host, source,
    /// sourcetype, index), then the indexed fields'.
    private let keys: [[UInt8]]
    /// Where each template's keys start in `keys`: metadata first, then `configuration.fields`.
    private let metadataSlots: [Int]
    private let fieldSlots: [Int]
    /// Each indexed field's name as a JSON string, made once.
    private let fieldNames: [[UInt8]]
    /// Some template reads Kafka metadata: only then is it gathered per record (it costs a
    /// reference count on the topic name for every template rendered).
    private let readsMetadata: Bool
    /// The metadata (host, source, sourcetype, index) in order: runs of constant ones, rendered
    /// once as `"source":"kafka:logs",` into `metadataLiterals`, and the templated ones by their
    /// index in ``metadata``. `source` and `sourcetype` are constants in most configurations, and
    /// rendering, escaping and copying their templates per record was ~3% of the HEC row's CPU.
    private let metadataParts: [MetadataPart]
    private let metadataLiterals: [UInt8]

    private enum MetadataPart {
        case literal(Range<Int>)
        case template(Int)
    }

    init(configuration: SplunkHECSinkConfiguration) {
        self.configuration = configuration
        var keys: [[UInt8]] = []
        func slots(_ template: FieldTemplate?) -> Int {
            defer { keys += template?.topLevelKeys ?? [] }
            return keys.count
        }
        metadataSlots = [configuration.host, configuration.source, configuration.sourcetype, configuration.index].map(slots)
        fieldSlots = configuration.fields.map { slots($0.template) }
        fieldNames = configuration.fields.map { field in
            var name: [UInt8] = []
            JSONBytes.appendString(field.name, to: &name)
            return name
        }
        self.keys = keys
        var literals: [UInt8] = []
        var parts: [MetadataPart] = []
        var scratch: [UInt8] = []
        for (n, entry) in Self.metadata(of: configuration).enumerated() {
            guard let template = entry.template else { continue }
            guard template.isConstant else {
                parts.append(.template(n))
                continue
            }
            let start = literals.count
            Self.appendMetadata(
                key: entry.key, template: template, value: UnsafeRawBufferPointer(start: nil, count: 0), timestampMs: 0, found: nil,
                kafka: nil, into: &literals, scratch: &scratch)
            if case .literal(let previous)? = parts.last, previous.upperBound == start {
                parts[parts.count - 1] = .literal(previous.lowerBound..<literals.count)
            } else {
                parts.append(.literal(start..<literals.count))
            }
        }
        metadataParts = parts
        metadataLiterals = literals
        readsMetadata = ([configuration.host, configuration.source, configuration.sourcetype, configuration.index].compactMap { $0 }
            + configuration.fields.map(\.template)).contains { !$0.metadataFields.isEmpty }
    }

    /// The body for the records at `indices` of `batch`: one event object per record, on one line,
    /// whatever the record's bytes (``RecordValueReader``, `JSONBytes.appendSingleLine`).
    func body(for indices: [Int], of batch: RecordBatch) -> EncodedBody {
        var out: [UInt8] = []
        out.reserveCapacity(indices.count * 160 + batch.bytes.count)
        var scratch: [UInt8] = []
        let metadata = self.metadata
        let fields = configuration.fields
        var keys = keys
        var eventTime = EncoderEventTime(batch, keys: &keys)
        let identities = RecordIdentity.Prefixes(batch.topics)
        var reader = RecordValueReader(keys: keys)
        var repaired: [Int] = []
        batch.bytes.withUnsafeBytes { bytes in metadataLiterals.withUnsafeBytes { literals in
            for i in indices {
                let record = batch.records[i]
                let before = reader.repairedRecords
                // Valid objects in one pass; anything else (invalid JSON, scalars, arrays, text) as
                // before: validated alone, its template fields looked up leniently.
                let kafka = readsMetadata ? KafkaRecordMetadata(record, of: batch, bytes: bytes) : nil
                reader.read(UnsafeRawBufferPointer(rebasing: bytes[record.value])) { value, kind, reader in
                    // By index, with the found ranges as one buffer: no tuple copies and no slices
                    // of `found` per record, which retained and released their storage each time.
                    let found = reader.found
                    let timestampMs = found.withUnsafeBufferPointer { eventTime.millis(of: record, value: value, kind: kind, found: $0) }
                    out.append(UInt8(ascii: "{"))
                    if timestampMs >= 0 {
                        out.append(literal: Self.timeKey)
                        Self.appendSeconds(millis: timestampMs, to: &out)
                        out.append(UInt8(ascii: ","))
                    }
                    found.withUnsafeBufferPointer { found in
                        for part in metadataParts {
                            switch part {
                            case .literal(let range):
                                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: literals[range]))
                            case .template(let n):
                                guard let template = metadata[n].template else { continue }
                                Self.appendMetadata(
                                    key: metadata[n].key, template: template, value: value, timestampMs: timestampMs,
                                    found: kind == .object ? UnsafeBufferPointer(rebasing: found[metadataSlots[n]...]) : nil,
                                    kafka: kafka, into: &out, scratch: &scratch)
                            }
                        }
                    }
                    out.append(literal: Self.eventKey)
                    if kind == .text {
                        reader.appendText(value, to: &out)
                    } else {
                        JSONBytes.appendSingleLine(value, lineBreaks: reader.lineBreaks, to: &out)
                    }
                    out.append(literal: Self.fieldsKey)
                    RecordIdentity.appendQuoted(record, prefixes: identities, to: &out)
                    found.withUnsafeBufferPointer { found in
                        for n in fields.indices {
                            out.append(UInt8(ascii: ","))
                            out.append(contentsOf: fieldNames[n])
                            out.append(UInt8(ascii: ":"))
                            scratch.removeAll(keepingCapacity: true)
                            fields[n].template.render(
                                value: value, timestampMs: timestampMs,
                                foundIn: kind == .object ? UnsafeBufferPointer(rebasing: found[fieldSlots[n]...]) : nil,
                                metadata: kafka, into: &scratch)
                            scratch.withUnsafeBytes { _ = JSONBytes.appendString($0, to: &out) }
                        }
                    }
                    out.append(literal: Self.end)
                }
                if reader.repairedRecords != before { repaired.append(i) }
            }
        } }
        return EncodedBody(bytes: out, repaired: repaired)
    }

    private var metadata: [(key: StaticString, template: FieldTemplate?)] { Self.metadata(of: configuration) }

    private static func metadata(of configuration: SplunkHECSinkConfiguration) -> [(key: StaticString, template: FieldTemplate?)] {
        [
            (hostKey, configuration.host), (sourceKey, configuration.source),
            (sourcetypeKey, configuration.sourcetype), (indexKey, configuration.index),
        ]
    }

    /// `"key":"value",` for one metadata template: per record, or once for a constant one.
    private static func appendMetadata(
        key: StaticString, template: FieldTemplate, value: UnsafeRawBufferPointer, timestampMs: Int64,
        found: UnsafeBufferPointer<Range<Int>?>?, kafka: KafkaRecordMetadata?, into out: inout [UInt8], scratch: inout [UInt8]
    ) {
        out.append(literal: key)
        scratch.removeAll(keepingCapacity: true)
        template.render(value: value, timestampMs: timestampMs, foundIn: found, metadata: kafka, into: &scratch)
        scratch.withUnsafeBytes { _ = JSONBytes.appendString($0, to: &out) }
        out.append(UInt8(ascii: ","))
    }

    /// Epoch seconds with milliseconds, as HEC's `time` expects: `1700000000.123`.
    static func appendSeconds(millis: Int64, to out: inout [UInt8]) {
        JSONBytes.appendInteger(millis / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        Timestamp.appendPadded(Int(millis % 1000), width: 3, to: &out)
    }

    private static let timeKey: StaticString = #""time":"#
    private static let hostKey: StaticString = #""host":"#
    private static let sourceKey: StaticString = #""source":"#
    private static let sourcetypeKey: StaticString = #""sourcetype":"#
    private static let indexKey: StaticString = #""index":"#
    private static let eventKey: StaticString = #""event":"#
    private static let fieldsKey: StaticString = #","fields":{"event_id":"#
    private static let end: StaticString = "}}\n"
}
