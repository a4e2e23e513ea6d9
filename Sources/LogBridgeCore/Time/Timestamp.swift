/// RFC 3339 formatting of epoch milliseconds, on bytes and without Foundation's date formatters
/// (which allocate and take locks per call).
public enum Timestamp {
    /// Appends `2026-11-21T10:15:30.123Z`.
    public static func appendRFC3339(millis: Int64, to out: inout [UInt8]) {
        let ms = Int(((millis % 1000) + 1000) % 1000)
        let totalSeconds = (millis - Int64(ms)) / 1000
        var days = Int(totalSeconds / 86400)
        var secondsOfDay = Int(totalSeconds % 86400)
        if secondsOfDay < 0 { secondsOfDay += 86400; days -= 1 }
        let (year, month, day) = CivilTime.civilFromDaysCached(days)
        // `YYYY-MM-DDTHH:MM:SS.mmmZ` written into 24 bytes on the stack and appended once: the
        // Elasticsearch builder stamps every record, and 20 appends of one digit each (a capacity
        // and uniqueness check apiece) were 2% of its profile.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { text in
            var at = 0
            func put(_ value: Int, _ width: Int) {
                var v = value
                var i = at + width - 1
                while i >= at {
                    text[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                    i -= 1
                }
                at += width
            }
            func put(_ byte: Unicode.Scalar) {
                text[at] = UInt8(ascii: byte)
                at += 1
            }
            // Years outside 0...9999 keep their low four digits, as the digit-by-digit version did.
            put(year, 4); put("-"); put(month, 2); put("-"); put(day, 2); put("T")
            put(secondsOfDay / 3600, 2); put(":"); put(secondsOfDay / 60 % 60, 2); put(":"); put(secondsOfDay % 60, 2)
            put("."); put(ms, 3); put("Z")
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[0..<at]))
        }
    }

    public static func rfc3339(millis: Int64) -> String {
        var out: [UInt8] = []
        appendRFC3339(millis: millis, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the low `width` decimal digits of `value` (zero-padded; `width` 1...8) in one
    /// append: index names and other templates write a date per record.
    @inline(__always)
    public static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        precondition((1...8).contains(width), "appendPadded: width \(width) is outside 1...8")
        var digits: UInt64 = 0
        var v = value.magnitude
        for position in stride(from: width - 1, through: 0, by: -1) {
            digits |= UInt64(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)) << (8 * position)
            v /= 10
        }
        // Rebased: appending the `Slice` itself takes the element-by-element generic path.
        withUnsafeBytes(of: digits.littleEndian) { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<width])) }
    }
}
