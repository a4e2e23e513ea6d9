import LogBridgeCore

/// JSON string escapes, in both directions, on bytes.
enum JSONText {
    /// Appends the unescaped form of `escaped` (the bytes between a JSON string's quotes).
    /// Invalid escapes are copied as they are, lone surrogates become U+FFFD: the caller has
    /// already decided the text is a string, so this never fails.
    static func appendUnescaped(_ escaped: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let n = escaped.count
        var i = 0
        var runStart = 0
        while i < n {
            guard escaped[i] == UInt8(ascii: "\\") else { i += 1; continue }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: escaped[runStart..<i]))
            guard i + 1 < n else { out.append(UInt8(ascii: "\\")); i += 1; runStart = i; break }
            let c = escaped[i + 1]
            i += 2
            switch c {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard let high = hex4(escaped, at: i) else {
                    out.append(contentsOf: [UInt8(ascii: "\\"), c])
                    break
                }
                i += 4
                var scalar = UInt32(high)
                if (0xD800..<0xDC00).contains(high) {
                    if i + 6 <= n, escaped[i] == UInt8(ascii: "\\"), escaped[i + 1] == UInt8(ascii: "u"),
                        let low = hex4(escaped, at: i + 2), (0xDC00..<0xE000).contains(low)
                    {
                        scalar = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        i += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00..<0xE000).contains(high) {
                    scalar = 0xFFFD
                }
                appendUTF8(scalar, to: &out)
            default: out.append(c)  // \" \\ \/ and anything unknown
            }
            runStart = i
        }
        if runStart < n { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: escaped[runStart..<n])) }
    }

    /// Appends `raw` escaped for the inside of a JSON string (no quotes).
    static func appendEscaped(_ raw: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let start = out.count
        JSONBytes.appendString(raw, to: &out)
        // appendString adds the quotes; drop them. Cheaper than a second escaper to keep in sync.
        out.remove(at: start)
        out.removeLast()
    }

    static func hasEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.contains(UInt8(ascii: "\\"))
    }

    private static func hex4(_ bytes: UnsafeRawBufferPointer, at i: Int) -> UInt16? {
        guard i + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for j in i..<(i + 4) {
            let b = bytes[j]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }
}
