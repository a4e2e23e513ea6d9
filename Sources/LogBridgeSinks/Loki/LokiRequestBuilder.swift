import LogBridgeCore
import Synchronization

/// Builds Loki push bodies in JSON:
/// `{"streams":[{"stream":{"job":"gw"},"values":[["1700000000123000042","line"],…]},…]}`, with
/// structured metadata as an entry's third element when configured and found:
/// `["1700000000123000042","line",{"trace_id":"4bf9…"}]`.
///
/// Every entry's labels, timestamp and line come from the record alone, so a retry or a replay
/// sends identical entries and Loki de-duplicates them. The timestamp is the record's time in
/// nanoseconds plus its offset modulo 10^6: lines of one partition within the same millisecond
/// stay distinct (Loki would keep only one of equal timestamp and line), and the value never
/// changes between attempts. Entries are sorted per stream.
struct LokiRequestBuilder: Sendable {
    /// The configured labels. Besides building `labelParts`, this keeps the templates alive that
    /// `labelParts` holds unretained.
    private let labels: [(name: [UInt8], template: FieldTemplate)]
    /// Each structured metadata field: its name as a JSON string, its template and the key paths
    /// of the fields it reads (all must be present for the name to be sent).
    private let metadata: [(name: [UInt8], template: FieldTemplate, paths: [[[UInt8]]])]
    private let streams: StreamLimit
    /// Every label template's top-level keys, one template after another, found in one scan per
    /// record instead of one lookup from the record's start per label (5.7% of the forwarder's CPU
    /// in the Loki bench profile went to those scans); each templated `LabelPart` has its range.
    private let labelKeys: [[UInt8]]
    /// Each label as the per-record loop writes it, from `labelLiterals`: a constant one
    /// (`job: logbridge`) rendered once as `"name":"value"`; a templated one as its `"name":`, its
    /// template unretained (`labels` keeps it alive) and the slot of its first key in `labelKeys`
    /// and their count. Reading names and templates out of `labels` in that loop retained and
    /// released them for every label and record.
    private enum LabelPart {
        case constant(Range<Int>)
        case templated(name: Range<Int>, template: FieldTemplate.Unretained, keys: Range<Int>)
    }
    private let labelParts: [LabelPart]
    private let labelLiterals: [UInt8]

    init(configuration: LokiSinkConfiguration, streams: StreamLimit) {
        labels = configuration.labels.map { (Array($0.name.utf8), $0.template) }
        var keys: [[UInt8]] = []
        let labelKeyStarts = labels.map { label in
            defer { keys += label.template.topLevelKeys }
            return keys.count
        }
        labelKeys = keys
        var literals: [UInt8] = []
        var scratch: [UInt8] = []
        labelParts = zip(labels, labelKeyStarts).map { label, keyStart in
            let start = literals.count
            if label.template.isConstant {
                Self.appendConstantLabel(name: label.name, template: label.template, into: &literals, scratch: &scratch)
                return .constant(start..<literals.count)
            }
            literals.append(UInt8(ascii: "\""))
            literals += label.name
            literals.append(literal: Self.nameEnd)
            return .templated(
                name: start..<literals.count, template: label.template.unretained,
                keys: keyStart..<(keyStart + label.template.topLevelKeys.count))
        }
        labelLiterals = literals
        metadata = configuration.structuredMetadata.map { field in
            var name: [UInt8] = []
            JSONBytes.appendString(field.name, to: &name)
            return (name, field.template, field.template.fieldPaths.map { $0.map { Array($0.utf8) } })
        }
        self.streams = streams
        readsMetadata = (labels.map(\.template) + metadata.map(\.template)).contains { !$0.metadataFields.isEmpty }
    }

    /// Some template reads Kafka metadata: only then is it gathered per record.
    private let readsMetadata: Bool

    /// The push body for the records at `indices` of `batch`; each line is a JSON string (invalid
    /// UTF-8 replaced by U+FFFD, counted in `repaired`).
    func body(for indices: [Int], of batch: RecordBatch) -> EncodedBody {
        var repaired: [Int] = []
        // Streams in order of first appearance, each with its entries.
        var streamIndex: [ByteKey: Int] = [:]
        var streamKeys: [[UInt8]] = []
        var entries: [[(timestamp: Int64, index: Int, metadata: Range<Int>)]] = []
        var key: [UInt8] = []
        var value: [UInt8] = []
        var lastStream: Int?
        var keys = labelKeys
        var eventTime = EncoderEventTime(batch, keys: &keys)
        var found = [Range<Int>?](repeating: nil, count: keys.count)
        // Every entry's `,{"name":"value",…}` (or nothing), one after another.
        var metadataBytes: [UInt8] = []
        // `labelParts` render templates unretained: `labels` owns them, kept alive explicitly for
        // the whole loop (one retain per body, not per label and record).
        withExtendedLifetime(labels) { batch.bytes.withUnsafeBytes { bytes in
            for i in indices {
                let record = batch.records[i]
                let line = UnsafeRawBufferPointer(rebasing: bytes[record.value])
                let kafka = readsMetadata ? KafkaRecordMetadata(record, of: batch, bytes: bytes) : nil
                key.removeAll(keepingCapacity: true)
                // A record that is not a complete JSON object: each template looks its fields up
                // on its own, leniently, as before.
                let complete = !keys.isEmpty && JSONBytes.noteTopLevelMembers(line, keys: keys, into: &found, stopAt: nil)
                var timestampMs: Int64 = 0
                found.withUnsafeBufferPointer { found in
                    timestampMs = eventTime.millis(of: record, value: line, noted: complete, found: found)
                    renderLabels(line, timestampMs: timestampMs, metadata: kafka, found: complete ? found : nil, into: &key, scratch: &value)
                }
                let slot: Int
                if let last = lastStream, key.withUnsafeBytes({ k in streamKeys[last].withUnsafeBytes { ByteKey.equal(k, $0) } }) {
                    // Records of one stream tend to come together: no hashing for them.
                    slot = last
                } else if let found = streamIndex[ByteKey(key)] {
                    slot = found
                } else {
                    // The limit is asked once per stream new to this batch, not per entry.
                    if !streams.admit(key) {
                        key.removeAll(keepingCapacity: true)
                        found.withUnsafeBufferPointer { found in
                            renderLabels(
                                line, timestampMs: timestampMs, metadata: kafka, found: complete ? found : nil, into: &key,
                                scratch: &value, overflow: true)
                        }
                    }
                    if let found = streamIndex[ByteKey(key)] {
                        slot = found
                    } else {
                        slot = streamKeys.count
                        streamIndex[ByteKey(key)] = slot
                        streamKeys.append(key)
                        entries.append([])
                    }
                }
                lastStream = slot
                let start = metadataBytes.count
                if !metadata.isEmpty { renderMetadata(line, timestampMs: timestampMs, kafka: kafka, into: &metadataBytes, scratch: &value) }
                entries[slot].append((Self.timestampNanos(millis: timestampMs, offset: record.offset), i, start..<metadataBytes.count))
            }
        } }
        var out: [UInt8] = []
        out.reserveCapacity(indices.count * 48 + batch.bytes.count + batch.bytes.count / 8)
        out.append(literal: Self.streamsOpen)
        batch.bytes.withUnsafeBytes { bytes in
            for (slot, streamKey) in streamKeys.enumerated() {
                if slot > 0 { out.append(UInt8(ascii: ",")) }
                out.append(literal: Self.streamOpen)
                out.append(contentsOf: streamKey)
                out.append(literal: Self.valuesOpen)
                for (n, entry) in entries[slot].sorted(by: { $0.timestamp < $1.timestamp }).enumerated() {
                    if n > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(literal: Self.entryOpen)
                    JSONBytes.appendInteger(entry.timestamp, to: &out)
                    out.append(literal: Self.entryMiddle)
                    if JSONBytes.appendString(UnsafeRawBufferPointer(rebasing: bytes[batch.records[entry.index].value]), to: &out) > 0 {
                        repaired.append(entry.index)
                    }
                    out.append(contentsOf: metadataBytes[entry.metadata])
                    out.append(UInt8(ascii: "]"))
                }
                out.append(literal: Self.streamClose)
            }
        }
        out.append(literal: Self.streamsClose)
        return EncodedBody(bytes: out, repaired: repaired)
    }

    /// `{"name":"value",…}` for one record; with `overflow`, templated values become `overflow`.
    /// `found`: the ranges of `labelKeys` in `line`, or nil to look each field up.
    private func renderLabels(
        _ line: UnsafeRawBufferPointer, timestampMs: Int64, metadata: KafkaRecordMetadata?, found: UnsafeBufferPointer<Range<Int>?>?,
        into out: inout [UInt8], scratch: inout [UInt8], overflow: Bool = false
    ) {
        out.append(UInt8(ascii: "{"))
        // By index, not `for label in labels`: a copy of each label (its name and its template's
        // arrays and strings) per record was retained and released, 10% of the Loki profile.
        for n in labelParts.indices {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            switch labelParts[n] {
            case .constant(let range):
                labelLiterals.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[range])) }
            case .templated(let name, let template, let keys):
                labelLiterals.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[name])) }
                scratch.removeAll(keepingCapacity: true)
                if overflow {
                    scratch.append(literal: Self.overflow)
                } else {
                    template.render(
                        value: line, timestampMs: timestampMs, foundIn: found.map { UnsafeBufferPointer(rebasing: $0[keys]) },
                        metadata: metadata, into: &scratch)
                }
                Self.appendLabelValue(&scratch, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A label's rendered value as Loki takes it: at most 2048 bytes, `unknown` when empty, quoted.
    private static func appendLabelValue(_ value: inout [UInt8], to out: inout [UInt8]) {
        // Loki refuses values over 2048 bytes.
        if value.count > 2048 { value.removeLast(value.count - 2048) }
        if value.isEmpty { value.append(literal: Self.unknown) }
        value.withUnsafeBytes { _ = JSONBytes.appendString($0, to: &out) }
    }

    /// `"name":"value"` for a constant label, made once.
    private static func appendConstantLabel(name: [UInt8], template: FieldTemplate, into out: inout [UInt8], scratch: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out += name
        out.append(literal: Self.nameEnd)
        scratch.removeAll(keepingCapacity: true)
        template.render(value: UnsafeRawBufferPointer(start: nil, count: 0), timestampMs: 0, into: &scratch)
        appendLabelValue(&scratch, to: &out)
    }

    /// `,{"name":"value",…}` for one record: the names whose fields are all present, with their
    /// rendered values; nothing at all when none is. A missing field leaves its name out rather
    /// than sending a stand-in such as `unknown`, which a query would match as if it were a value.
    private func renderMetadata(
        _ line: UnsafeRawBufferPointer, timestampMs: Int64, kafka: KafkaRecordMetadata?, into out: inout [UInt8], scratch: inout [UInt8]
    ) {
        var written = 0
        for field in metadata {
            guard field.paths.allSatisfy({ path in JSONBytes.lookup(keys: path, in: line).map { !$0.isEmpty } ?? false }),
                  field.template.metadataFields.allSatisfy({ kafka?.has($0) == true })
            else { continue }
            scratch.removeAll(keepingCapacity: true)
            field.template.render(value: line, timestampMs: timestampMs, metadata: kafka, into: &scratch)
            guard !scratch.isEmpty else { continue }
            out.append(literal: written == 0 ? Self.metadataOpen : Self.comma)
            out.append(contentsOf: field.name)
            out.append(UInt8(ascii: ":"))
            scratch.withUnsafeBytes { _ = JSONBytes.appendString($0, to: &out) }
            written += 1
        }
        if written > 0 { out.append(UInt8(ascii: "}")) }
    }

    static func timestampNanos(millis: Int64, offset: Int64) -> Int64 {
        max(millis, 0) &* 1_000_000 &+ (offset % 1_000_000)
    }

    private static let streamsOpen: StaticString = #"{"streams":["#
    private static let streamOpen: StaticString = #"{"stream":"#
    private static let valuesOpen: StaticString = #","values":["#
    private static let entryOpen: StaticString = #"[""#
    private static let entryMiddle: StaticString = #"","#
    private static let streamClose: StaticString = "]}"
    private static let streamsClose: StaticString = "]}"
    private static let nameEnd: StaticString = #"":"#
    private static let metadataOpen: StaticString = ",{"
    private static let comma: StaticString = ","
    private static let overflow: StaticString = "overflow"
    private static let unknown: StaticString = "unknown"
}

/// Bounds the distinct label sets one sink creates. A set admitted once stays admitted, so a
/// record's labels do not change between retries; only after a restart, in the overflow regime,
/// could a replayed record land in a different stream.
final class StreamLimit: Sendable {
    private let seen = Mutex<Set<ByteKey>>([])
    private let limit: Int
    private let overflowed = Mutex(false)
    let onFirstOverflow: @Sendable () -> Void

    init(limit: Int, onFirstOverflow: @escaping @Sendable () -> Void) {
        self.limit = limit
        self.onFirstOverflow = onFirstOverflow
    }

    func admit(_ key: [UInt8]) -> Bool {
        let admitted = seen.withLock { seen -> Bool in
            if seen.contains(ByteKey(key)) { return true }
            guard seen.count < limit else { return false }
            seen.insert(ByteKey(key))
            return true
        }
        if !admitted, !overflowed.withLock({ value in defer { value = true }; return value }) { onFirstOverflow() }
        return admitted
    }
}
