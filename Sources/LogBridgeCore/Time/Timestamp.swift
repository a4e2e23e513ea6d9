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
        let (year, month, day) = CivilTime.civilFromDays(days)
        appendPadded(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendPadded(secondsOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secondsOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendPadded(secondsOfDay % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        appendPadded(ms, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    public static func rfc3339(millis: Int64) -> String {
        var out: [UInt8] = []
        appendRFC3339(millis: millis, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    public static func appendPadded(_ value: Int, width: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var v = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: (v / divisor) % 10))
            v %= divisor
            divisor /= 10
        }
    }
}
