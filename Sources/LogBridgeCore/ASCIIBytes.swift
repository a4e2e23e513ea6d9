/// ASCII byte tests and the numeric readers that timestamps, offsets and typed values share
/// (the time parsers here and the pipeline's value conversions). Inlinable: they run per byte
/// of every parsed timestamp, across module boundaries.
public enum ASCIIBytes {
    @inlinable public static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    /// Space or horizontal tab: the whitespace that may pad keys and values.
    @inlinable public static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// ASCII lowercase for letters, identity otherwise.
    @inlinable public static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// Case-insensitive comparison of `bytes[at..<at+word.count]` with an ASCII lowercase `word`.
    @inlinable
    public static func matchesLowercased(_ bytes: UnsafeRawBufferPointer, at: Int, _ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard at + n <= bytes.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where lower(bytes[at + k]) != w[k] { return false }
        return true
    }

    /// Reads 1...`maxDigits` decimal digits at `i`; returns the value and the index after them.
    @inlinable
    public static func readDigits(_ bytes: UnsafeRawBufferPointer, at i: Int, min minDigits: Int = 1, max maxDigits: Int) -> (value: Int, next: Int)? {
        var j = i
        var v = 0
        let limit = Swift.min(bytes.count, i + maxDigits)
        while j < limit, isDigit(bytes[j]) {
            v = v * 10 + Int(bytes[j] &- 0x30)
            j += 1
        }
        return j - i >= minDigits ? (v, j) : nil
    }

    /// Reads a fraction's digits at `i`: up to 9 are kept as nanoseconds, further digits are
    /// consumed and truncated (sub-nanosecond precision cannot be represented).
    @inlinable
    public static func readFractionNanos(_ bytes: UnsafeRawBufferPointer, at i: Int) -> (nanos: Int64, next: Int)? {
        var j = i
        var v: Int64 = 0
        var digits = 0
        while j < bytes.count, isDigit(bytes[j]) {
            if digits < 9 { v = v * 10 + Int64(bytes[j] &- 0x30); digits += 1 }
            j += 1
        }
        guard j > i else { return nil }
        while digits < 9 { v *= 10; digits += 1 }
        return (v, j)
    }

    /// Reads a numeric UTC offset at `i`: `Z`/`z`, `+hh`, `+hhmm`, `+hh:mm` (or `-`).
    /// Returns seconds east of UTC.
    @inlinable
    public static func readOffset(_ bytes: UnsafeRawBufferPointer, at i: Int) -> (seconds: Int, next: Int)? {
        guard i < bytes.count else { return nil }
        let c = bytes[i]
        if c == 0x5A || c == 0x7A { return (0, i + 1) }
        guard c == 0x2B || c == 0x2D else { return nil }
        guard let (hours, afterHours) = readDigits(bytes, at: i + 1, min: 2, max: 2), hours <= 23 else { return nil }
        var j = afterHours
        var minutes = 0
        if j < bytes.count && bytes[j] == 0x3A {
            guard let (m, next) = readDigits(bytes, at: j + 1, min: 2, max: 2) else { return nil }
            minutes = m; j = next
        } else if let (m, next) = readDigits(bytes, at: j, min: 2, max: 2) {
            minutes = m; j = next
        }
        guard minutes <= 59 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return (c == 0x2D ? -seconds : seconds, j)
    }
}
