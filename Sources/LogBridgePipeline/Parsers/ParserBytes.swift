// Shared byte-level helpers for the parsers in this folder. Kept in a namespace (not as
// `UInt8` extensions) so they cannot collide with helpers elsewhere in the module.

/// Byte-level helpers shared by the log-line parsers.
enum ParserBytes {
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let backslash: UInt8 = 0x5C
    static let doubleQuote: UInt8 = 0x22
    static let singleQuote: UInt8 = 0x27

    /// Whether `pattern` occurs in `bytes` at `i`. `pattern` is a non-empty separator.
    @inline(__always)
    static func matches(_ bytes: UnsafeRawBufferPointer, at i: Int, end: Int, _ pattern: UnsafeRawBufferPointer) -> Bool {
        let n = pattern.count
        guard i + n <= end, bytes[i] == pattern[0] else { return false }
        var k = 1
        while k < n {
            if bytes[i + k] != pattern[k] { return false }
            k += 1
        }
        return true
    }

    /// Appends a Unicode scalar as UTF-8; invalid scalars (lone surrogates, > U+10FFFF) become U+FFFD.
    static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        var v = scalar
        if v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) { v = 0xFFFD }
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (v >> 6)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (v >> 12)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (v >> 18)))
            out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        }
    }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    /// Reads four hex digits at `i` (the `XXXX` of `\uXXXX`).
    @inline(__always) static func hex4(_ bytes: UnsafeRawBufferPointer, at i: Int, end: Int) -> UInt32? {
        guard i + 4 <= end,
              let a = hexValue(bytes[i]), let b = hexValue(bytes[i + 1]),
              let c = hexValue(bytes[i + 2]), let d = hexValue(bytes[i + 3]) else { return nil }
        return a << 12 | b << 8 | c << 4 | d
    }

    /// Decodes all of `bytes` (see below); also how event strings are read.
    static func appendUnescaped(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        appendUnescaped(bytes, from: 0, to: bytes.count, into: &out)
    }

    /// Decodes a JSON-style escaped string body `bytes[start..<end]` (no surrounding quotes) into `out`:
    /// `\" \\ \/ \b \f \n \r \t \uXXXX` (with surrogate pairs). Unknown escapes keep the escaped
    /// byte (`\x` -> `x`), as go-logfmt and most shippers do, rather than failing the whole line.
    static func appendUnescaped(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into out: inout [UInt8]) {
        var i = start
        var runStart = start
        while i < end {
            guard bytes[i] == backslash else { i += 1; continue }
            if i > runStart { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            i += 1
            guard i < end else { out.append(backslash); runStart = end; break }
            let e = bytes[i]
            i += 1
            switch e {
            case 0x6E: out.append(0x0A) // n
            case 0x74: out.append(0x09) // t
            case 0x72: out.append(0x0D) // r
            case 0x62: out.append(0x08) // b
            case 0x66: out.append(0x0C) // f
            case 0x75: // u
                if var scalar = hex4(bytes, at: i, end: end) {
                    i += 4
                    if scalar >= 0xD800 && scalar < 0xDC00, i + 6 <= end,
                       bytes[i] == backslash, bytes[i + 1] == 0x75,
                       let low = hex4(bytes, at: i + 2, end: end), low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                    appendUTF8(scalar, to: &out)
                } else {
                    out.append(0x75)
                }
            default: out.append(e)
            }
            runStart = i
        }
        if runStart < end { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<end])) }
    }
}
