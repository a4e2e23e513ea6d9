import LogBridgeCore

/// Builds `_bulk` bodies: one `create` action per record with `_id` = `topic-partition-offset`, so a
/// batch sent again after a crash or a retry cannot index a record twice (ES answers 409).
///
/// Each record is read once: one pass validates it and finds `@timestamp` and the index
/// template's top-level fields (`JSONBytes.isValidObject(_:noting:into:)`).
struct ElasticsearchRequestBuilder: Sendable {
    let index: FieldTemplate
    /// The template's top-level keys, then `@timestamp` in the last slot.
    private let keys: [[UInt8]]
    /// The index template reads Kafka metadata: only then is it gathered per record.
    private let readsMetadata: Bool

    init(index: FieldTemplate) {
        self.index = index
        readsMetadata = !index.metadataFields.isEmpty
        keys = index.topLevelKeys + [Array("@timestamp".utf8)]
    }

    /// The bulk body for the records at `indices` of `batch`: one action line and one document line
    /// per record, whatever the record's bytes (``RecordValueReader``, `JSONBytes.appendSingleLine`).
    func body(for indices: [Int], of batch: RecordBatch) -> EncodedBody {
        var out: [UInt8] = []
        out.reserveCapacity(indices.count * 96 + batch.bytes.count)
        var name: [UInt8] = []
        var names = IndexNames()
        let timestampSlot = keys.count - 1
        var keys = keys
        var eventTime = EncoderEventTime(batch, keys: &keys)
        let identities = RecordIdentity.Prefixes(batch.topics)
        var reader = RecordValueReader(keys: keys)
        var repaired: [Int] = []
        batch.bytes.withUnsafeBytes { bytes in
            for i in indices {
                let record = batch.records[i]
                let before = reader.repairedRecords
                reader.read(UnsafeRawBufferPointer(rebasing: bytes[record.value])) { value, kind, reader in
                    out.append(literal: Self.createIndex)
                    name.removeAll(keepingCapacity: true)
                    var timestampMs: Int64 = 0
                    // Not a valid object: the template looks its fields up as before (leniently).
                    reader.found.withUnsafeBufferPointer { found in
                        timestampMs = eventTime.millis(of: record, value: value, kind: kind, found: found)
                        index.render(
                            value: value, timestampMs: timestampMs, foundIn: kind == .object ? found : nil,
                            metadata: readsMetadata ? KafkaRecordMetadata(record, of: batch, bytes: bytes) : nil, into: &name)
                    }
                    if !names.append(name, to: &out) {
                        let start = out.count
                        Self.appendIndexName(name, to: &out)
                        names.keep(name, quoted: out[start...])
                    }
                    out.append(literal: Self.idKey)
                    RecordIdentity.appendQuoted(record, prefixes: identities, to: &out)
                    out.append(literal: Self.actionEnd)
                    Self.appendDocument(value, kind: kind, timestamp: kind == .object ? reader.found[timestampSlot] : nil,
                                        timestampMs: timestampMs, reader: &reader, to: &out)
                    out.append(UInt8(ascii: "\n"))
                }
                if reader.repairedRecords != before { repaired.append(i) }
            }
        }
        return EncodedBody(bytes: out, repaired: repaired)
    }

    /// The index names of one body, each made safe once (3% of the Elasticsearch bench profile
    /// when it was done per record). A batch's records go to a few indices (one per namespace and
    /// day, say): the first eight names are found by comparing bytes, cheaper than hashing every
    /// record's name (1% of that profile); further ones go to a dictionary, which keeps at most 64
    /// (a name made from a field with many values is not kept).
    struct IndexNames {
        /// The first eight names and their safe forms, end to end in two buffers: iterating an
        /// array of arrays retains and releases each element, which cost more than the hashing.
        private var names: [UInt8] = []
        private var nameEnds: [Int] = []
        private var safe: [UInt8] = []
        private var safeEnds: [Int] = []
        private var more: [ByteKey: [UInt8]] = [:]

        /// Appends the safe form of `name` if it is known; returns whether it was.
        func append(_ name: [UInt8], to out: inout [UInt8]) -> Bool {
            let found = name.withUnsafeBytes { wanted -> Int? in
                names.withUnsafeBytes { kept in
                    var start = 0
                    for (slot, end) in nameEnds.enumerated() {
                        if ByteKey.equal(UnsafeRawBufferPointer(rebasing: kept[start..<end]), wanted) { return slot }
                        start = end
                    }
                    return nil
                }
            }
            if let slot = found {
                let start = slot == 0 ? 0 : safeEnds[slot - 1]
                safe.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[start..<safeEnds[slot]])) }
                return true
            }
            guard !more.isEmpty, let quoted = more[ByteKey(name)] else { return false }
            out.append(contentsOf: quoted)
            return true
        }

        mutating func keep(_ name: [UInt8], quoted: ArraySlice<UInt8>) {
            if nameEnds.count < 8 {
                names.append(contentsOf: name)
                nameEnds.append(names.count)
                safe.append(contentsOf: quoted)
                safeEnds.append(safe.count)
            } else if more.count < 64 {
                more[ByteKey(name)] = Array(quoted)
            }
        }
    }

    /// Index names must be lowercase and free of `\\ / * ? " < > | , #` and spaces; anything else
    /// becomes `_`, and a leading `-`, `_` or `+` is dropped. A byte that is not part of a valid
    /// UTF-8 sequence (a field value from a hostile record) becomes `_` too, so the action line
    /// stays valid JSON. Names are cut at 255 bytes (on a character boundary), Elasticsearch's
    /// limit, so a long field value cannot make a record's index name invalid.
    static func appendIndexName(_ name: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let limit = out.count + 255
        var started = false
        name.withUnsafeBytes { bytes in
            var i = 0
            while i < bytes.count {
                var byte = bytes[i]
                if byte >= 0x80 {
                    let length = JSONBytes.utf8SequenceLength(bytes, at: i)
                    if length > 0 {
                        if out.count + length > limit { break }
                        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + length)]))
                        started = true
                        i += length
                        continue
                    }
                    byte = UInt8(ascii: "_")
                }
                i += 1
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
                switch byte {
                case UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "\""),
                     UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: ","), UInt8(ascii: "#"),
                     UInt8(ascii: " "), UInt8(ascii: ":"):
                    byte = UInt8(ascii: "_")
                default:
                    if byte < 0x20 { byte = UInt8(ascii: "_") }
                }
                if !started && (byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+")) { continue }
                started = true
                if out.count + 1 > limit { break }
                out.append(byte)
            }
        }
        if !started { out.append(contentsOf: "unknown".utf8) }
        out.append(UInt8(ascii: "\""))
    }

    /// The document, on one line: a JSON object as it is, with `@timestamp` added from the record's
    /// event time when it has none; any other value becomes `{"@timestamp":…,"message":"…"}`.
    ///
    /// `timestamp`: where the object's own top-level `@timestamp` value is. It is kept as written
    /// when it reads as the event time (an RFC 3339 string keeps its precision and offset);
    /// otherwise it is replaced by the event time in RFC 3339. Elasticsearch's default date
    /// format reads a number as epoch milliseconds, so Fluent Bit's default `@timestamp`
    /// (`1763632800.123456`, seconds) sent as it is would land in January 1970
    /// (docs/event-time.md).
    static func appendDocument(
        _ value: UnsafeRawBufferPointer, kind: RecordValueReader.Kind, timestamp: Range<Int>?, timestampMs: Int64,
        reader: inout RecordValueReader, to out: inout [UInt8]
    ) {
        let lineBreaks = reader.lineBreaks
        if let timestamp {
            if timestampMs < 0 || Self.readsAs(timestampMs, UnsafeRawBufferPointer(rebasing: value[timestamp])) {
                JSONBytes.appendSingleLine(value, lineBreaks: lineBreaks, to: &out)
            } else {
                JSONBytes.appendSingleLine(UnsafeRawBufferPointer(rebasing: value[..<timestamp.lowerBound]), lineBreaks: lineBreaks, to: &out)
                out.append(UInt8(ascii: "\""))
                Timestamp.appendRFC3339(millis: timestampMs, to: &out)
                out.append(UInt8(ascii: "\""))
                JSONBytes.appendSingleLine(UnsafeRawBufferPointer(rebasing: value[timestamp.upperBound...]), lineBreaks: lineBreaks, to: &out)
            }
            return
        }
        out.append(literal: timestampKey)
        Timestamp.appendRFC3339(millis: max(timestampMs, 0), to: &out)
        out.append(UInt8(ascii: "\""))
        if kind == .object {
            // Splice the remaining members in after `{`; an empty object closes at once.
            var rest = value.index(after: value.startIndex)
            while rest < value.endIndex, value[rest] == 0x20 || value[rest] == 0x0A || value[rest] == 0x0D || value[rest] == 0x09 {
                rest += 1
            }
            if rest < value.endIndex, value[rest] != UInt8(ascii: "}") { out.append(UInt8(ascii: ",")) }
            JSONBytes.appendSingleLine(UnsafeRawBufferPointer(rebasing: value[rest...]), lineBreaks: lineBreaks, to: &out)
        } else {
            out.append(literal: messageKey)
            reader.appendText(value, to: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Whether Elasticsearch would read a `@timestamp` value as this instant: an RFC 3339 string
    /// for it. A number (or a string of digits) reads as epoch milliseconds there, never kept.
    static func readsAs(_ millis: Int64, _ raw: UnsafeRawBufferPointer) -> Bool {
        guard raw.count > 2, raw.first == UInt8(ascii: "\""), raw.last == UInt8(ascii: "\"") else { return false }
        let text = UnsafeRawBufferPointer(rebasing: raw[(raw.startIndex + 1)..<(raw.endIndex - 1)])
        return TimestampParser.parseISO8601(text).map(EventTimeResolver.millis) == millis
    }

    private static let createIndex: StaticString = #"{"create":{"_index":"#
    private static let idKey: StaticString = #","_id":"#
    private static let actionEnd: StaticString = "}}\n"
    private static let timestampKey: StaticString = #"{"@timestamp":""#
    private static let messageKey: StaticString = #","message":"#
}
