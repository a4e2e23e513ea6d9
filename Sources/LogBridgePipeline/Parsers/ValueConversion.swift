import LogBridgeCore
/// Exact text-to-value conversions for the `convert` processor, and the reverse for doubles.
/// Each parse takes the whole input: no blanks, no trailing text; nil means "not a value of
/// that type", which the processor reports rather than guessing.
public enum ValueConversion {
    /// Optional `+`/`-`, then decimal digits (leading zeros allowed: `007` is 7).
    /// - Returns: nil for anything else or when the value does not fit in Int64.
    public static func parseInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        var i = 0
        var negative = false
        if i < n && (bytes[i] == 0x2D || bytes[i] == 0x2B) { negative = bytes[i] == 0x2D; i += 1 }
        guard i < n else { return nil }
        // Accumulate toward the sign so Int64.min parses without overflowing on the way.
        var v: Int64 = 0
        while i < n {
            let d = bytes[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// The JSON number grammar, plus a leading `+` and leading zeros:
    /// `[+-]?digits(.digits)?([eE][+-]?digits)?` (`1e3`, `1.5`, `-0`, `007`).
    /// Not accepted: `.5`, `5.`, `inf`, `nan`, hex, blanks.
    /// - Returns: nil for other text and for magnitudes that round to infinity (`1e400`);
    ///   tiny magnitudes round to zero as IEEE 754 does.
    public static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        guard let parts = scanNumber(bytes) else { return nil }
        // Clinger's fast path: a mantissa of at most 2^53 and a power of ten up to 22 are both
        // exact doubles, so one IEEE multiply or divide gives the correctly rounded result.
        if parts.mantissaIsExact && parts.mantissa <= 1 << 53 && parts.exponent10 >= -22 && parts.exponent10 <= 22 {
            let m = Double(parts.mantissa)
            let p = powersOfTen[abs(parts.exponent10)]
            let value = parts.exponent10 < 0 ? m / p : m * p
            return parts.negative ? -value : value
        }
        // Otherwise the stdlib's parser (correctly rounded, locale-independent, unlike C
        // `strtod`) on the validated ASCII; inputs up to 15 bytes become small strings and do
        // not allocate, longer ones (rare: 16+ significant digits) do.
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// A number split by `scanNumber`: value = ±mantissa × 10^exponent10 when `mantissaIsExact`.
    struct NumberParts {
        var negative = false
        var mantissa: UInt64 = 0
        var mantissaIsExact = true
        var exponent10 = 0
    }

    /// Validates the `parseDouble` grammar and collects the decimal mantissa and exponent.
    static func scanNumber(_ b: UnsafeRawBufferPointer) -> NumberParts? {
        let n = b.count
        var parts = NumberParts()
        var i = 0
        if i < n && (b[i] == 0x2D || b[i] == 0x2B) { parts.negative = b[i] == 0x2D; i += 1 }
        var significant = 0
        @inline(__always) func digit(_ d: UInt8, fraction: Bool) {
            if parts.mantissa == 0 && d == 0 {
                if fraction { parts.exponent10 -= 1 }
                return
            }
            if significant < 19 {
                parts.mantissa = parts.mantissa &* 10 &+ UInt64(d)
                significant += 1
                if fraction { parts.exponent10 -= 1 }
            } else {
                // Beyond 19 digits the mantissa is no longer exact: leave it to the slow path.
                parts.mantissaIsExact = false
            }
        }
        var start = i
        while i < n, ASCIIBytes.isDigit(b[i]) { digit(b[i] &- 0x30, fraction: false); i += 1 }
        guard i > start else { return nil }
        if i < n && b[i] == 0x2E {
            i += 1
            start = i
            while i < n, ASCIIBytes.isDigit(b[i]) { digit(b[i] &- 0x30, fraction: true); i += 1 }
            guard i > start else { return nil }
        }
        if i < n && (b[i] == 0x65 || b[i] == 0x45) {
            i += 1
            var negativeExponent = false
            if i < n && (b[i] == 0x2D || b[i] == 0x2B) { negativeExponent = b[i] == 0x2D; i += 1 }
            start = i
            var e = 0
            while i < n, ASCIIBytes.isDigit(b[i]) {
                // Clamp: any exponent this large is outside the fast path anyway.
                if e < 100_000 { e = e * 10 + Int(b[i] &- 0x30) }
                i += 1
            }
            guard i > start else { return nil }
            parts.exponent10 += negativeExponent ? -e : e
        }
        return i == n ? parts : nil
    }

    /// `true/false/yes/no/on/off/1/0`, any case.
    public static func parseBool(_ bytes: UnsafeRawBufferPointer) -> Bool? {
        switch bytes.count {
        case 1:
            switch bytes[0] {
            case 0x31: return true
            case 0x30: return false
            default: return nil
            }
        case 2:
            if ASCIIBytes.matchesLowercased(bytes, at: 0, "on") { return true }
            if ASCIIBytes.matchesLowercased(bytes, at: 0, "no") { return false }
        case 3:
            if ASCIIBytes.matchesLowercased(bytes, at: 0, "yes") { return true }
            if ASCIIBytes.matchesLowercased(bytes, at: 0, "off") { return false }
        case 4:
            if ASCIIBytes.matchesLowercased(bytes, at: 0, "true") { return true }
        case 5:
            if ASCIIBytes.matchesLowercased(bytes, at: 0, "false") { return false }
        default:
            break
        }
        return nil
    }

    /// Appends the shortest text that reads back as `value` and is valid JSON: `1.0`, `0.1`,
    /// `-0.0`, `1e+20`, `5e-324`.
    ///
    /// - Important: JSON has no infinity or NaN; callers must handle them first. As a
    ///   safety net they are written as `null` rather than producing invalid JSON.
    ///
    /// Uses the stdlib's shortest round-trip formatter (SwiftDtoa) through
    /// `TextOutputStreamable.write(to:)`: it formats into a stack buffer and hands the ASCII to
    /// the stream's `_writeASCII`, which `DoubleTextSink` copies into `out` without creating a
    /// `String`. (`_writeASCII` is an underscored stdlib requirement; if a future toolchain
    /// stops calling it, the `write(_: String)` fallback keeps the output identical.)
    public static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(0x6E); out.append(0x75); out.append(0x6C); out.append(0x6C) // null
            return
        }
        // Swapping moves the buffer in and out without a copy-on-write.
        var sink = DoubleTextSink(out: [])
        swap(&sink.out, &out)
        value.write(to: &sink)
        swap(&sink.out, &out)
    }
}

/// Adapts `[UInt8]` to `TextOutputStream` for `ValueConversion.appendDouble`.
struct DoubleTextSink: TextOutputStream {
    var out: [UInt8]
    mutating func write(_ string: String) { out.append(contentsOf: string.utf8) }
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { out.append(contentsOf: buffer) }
}
