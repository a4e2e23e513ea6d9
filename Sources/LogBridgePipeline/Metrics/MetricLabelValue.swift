/// Label values the `metrics` processor takes from events, made safe to key a series and to
/// expose.
///
/// An event field can hold anything: a 10 KiB stack trace, invalid UTF-8. `max_series` bounds how
/// many series a family keeps, but not how long each label value is, so one value is kept to at
/// most ``maxBytes`` bytes of valid UTF-8: cut between Unicode scalars and ended with ``marker``
/// when it was longer, invalid sequences replaced by U+FFFD. Valid UTF-8 never holds the byte
/// 0xFF, which is what separates the values in a series key, so a value can never split in two.
enum MetricLabelValue {
    /// Longer than any namespace, pod, status or route label an operator means to group by.
    static let maxBytes = 128
    /// Ends a value that was cut, so the series says so (U+2026, 3 bytes).
    static let marker: [UInt8] = Array("…".utf8)

    /// Appends the label value for `text` to `key`.
    static func append(_ text: UnsafeRawBufferPointer, to key: inout [UInt8]) {
        if text.count <= maxBytes, isValidUTF8(text) {
            key.append(contentsOf: text)
            return
        }
        // Only the first maxBytes can survive. A sequence cut at that edge decodes to U+FFFD no
        // earlier than byte maxBytes - 3 (a repair never shortens the text), where the room left
        // beside the marker ends, so it is never kept.
        let repaired = String(decoding: text[..<min(text.count, maxBytes)], as: UTF8.self)
        if text.count <= maxBytes, repaired.utf8.count <= maxBytes {
            key.append(contentsOf: repaired.utf8)
            return
        }
        let budget = maxBytes - marker.count
        var used = 0
        for scalar in repaired.unicodeScalars {
            let width = UTF8.width(scalar)
            guard used + width <= budget else { break }
            used += width
            UTF8.encode(scalar) { key.append($0) }
        }
        key.append(contentsOf: marker)
    }

    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
