import LogBridgeCore

/// Reads each record's value the way the JSON encoders (Elasticsearch, Splunk HEC, the file
/// envelope) need it: valid JSON object, other valid JSON, or text, with the top-level members
/// the encoder's templates read noted in the same pass.
///
/// A value that is invalid only because of malformed UTF-8 is repaired (each invalid byte becomes
/// U+FFFD) and read again, so a record with one bad byte keeps its fields instead of turning into a
/// string; text values are escaped with the same replacement. Either way the record is sent, never
/// refused for its bytes, and `repairedRecords` counts it (`logbridge_sink_records_utf8_repaired_total`).
struct RecordValueReader {
    enum Kind: Equatable {
        /// A valid JSON object; its noted members are in `found`.
        case object
        /// Another valid JSON value (array, string, number, literal).
        case json
        /// Anything else: encoders send it as a JSON string (``appendText(_:to:)``).
        case text
    }

    /// Top-level keys to note in objects, in the order of `found`'s slots.
    let keys: [[UInt8]]
    /// Where each key's value is in the bytes last handed to `body` (nil when absent), for
    /// `FieldTemplate.render(foundIn:)` when the value was an object.
    private(set) var found: [Range<Int>?]
    /// Whether the value last handed to `body` as JSON (`.object`, `.json`) may hold a raw CR or
    /// LF between its tokens: false only when its validation saw none
    /// (`JSONBytes.appendSingleLine(_:lineBreaks:to:)`).
    private(set) var lineBreaks = true
    /// Records whose invalid UTF-8 was replaced since the reader was made.
    private(set) var repairedRecords = 0
    private var repaired: [UInt8] = []

    init(keys: [[UInt8]]) {
        self.keys = keys
        found = Array(repeating: nil, count: keys.count)
    }

    /// Reads `value` and calls `body` with the bytes to encode (the record's own, or the repaired
    /// copy) and their kind.
    mutating func read<R>(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, Kind, inout Self) -> R) -> R {
        let kind = classify(value)
        if kind != .text || !JSONBytes.containsNonASCII(value) { return body(value, kind, &self) }
        var copy = repaired
        repaired = []
        defer { repaired = copy }
        guard JSONBytes.replacingInvalidUTF8(value, into: &copy) > 0 else { return body(value, kind, &self) }
        return copy.withUnsafeBytes { fixed in
            let fixedKind = classify(fixed)
            guard fixedKind != .text else { return body(value, .text, &self) }
            repairedRecords += 1
            return body(fixed, fixedKind, &self)
        }
    }

    /// Appends a text value as a JSON string, counting it when invalid UTF-8 had to be replaced.
    mutating func appendText(_ value: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if JSONBytes.appendString(value, to: &out) > 0 { repairedRecords += 1 }
    }

    private mutating func classify(_ value: UnsafeRawBufferPointer) -> Kind {
        lineBreaks = true
        guard let first = value.first else { return .text }
        if first == UInt8(ascii: "{") {
            return JSONBytes.isValidObject(value, noting: keys, into: &found, lineBreaks: &lineBreaks) ? .object : .text
        }
        return JSONBytes.isValid(value, lineBreaks: &lineBreaks) ? .json : .text
    }
}
