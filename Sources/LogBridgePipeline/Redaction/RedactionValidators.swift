/// Byte classes used by the redaction scanner (ASCII only: every detector's syntax is ASCII).
enum RedactionBytes {
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b &- 0x41 < 26 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b &- 0x61 < 26 }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    /// Letters, digits and `_`: a byte that continues a word, so a token cannot start or end next to it.
    @inline(__always) static func isWord(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
    /// Standard base64 alphabet without padding (`A-Za-z0-9+/`).
    @inline(__always) static func isBase64(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2B || b == 0x2F }
    /// base64url alphabet (`A-Za-z0-9-_`).
    @inline(__always) static func isBase64URL(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2D || b == 0x5F }
    /// RFC 7235 token68 characters, without the trailing `=` padding.
    @inline(__always) static func isToken68(_ b: UInt8) -> Bool {
        isAlnum(b) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E || b == 0x2B || b == 0x2F
    }
    /// Characters of an e-mail local part we accept (a practical subset of RFC 5322 `atext`).
    @inline(__always) static func isEmailLocal(_ b: UInt8) -> Bool {
        isAlnum(b) || b == 0x2E || b == 0x5F || b == 0x25 || b == 0x2B || b == 0x2D
    }
}

/// Checksums and range rules that turn a syntactic candidate into a detection.
public enum RedactionValidators {
    /// Luhn (mod 10) check over the ASCII digits of `bytes`; other bytes (group separators) are skipped.
    public static func luhn(_ bytes: some Collection<UInt8>) -> Bool {
        var sum = 0
        var double = false
        var digits = 0
        for b in bytes.reversed() where RedactionBytes.isDigit(b) {
            var d = Int(b &- 0x30)
            if double { d *= 2; if d > 9 { d -= 9 } }
            sum += d
            double.toggle()
            digits += 1
        }
        return digits > 0 && sum % 10 == 0
    }

    /// Luhn over `count` bytes at `base`, skipping separators; allocation-free for the scanner.
    static func luhn(_ base: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var sum = 0
        var double = false
        var i = count - 1
        while i >= 0 {
            let b = base[i]
            if RedactionBytes.isDigit(b) {
                var d = Int(b &- 0x30)
                if double { d &*= 2; if d > 9 { d &-= 9 } }
                sum &+= d
                double.toggle()
            }
            i -= 1
        }
        return sum % 10 == 0
    }

    /// Whether the first digits name a card network (issuer identification number) and the
    /// length fits it: Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay,
    /// Maestro. Excludes digit strings that merely pass Luhn, such as epoch-millisecond stamps.
    static func isKnownCardPrefix(first6 p: Int, length: Int) -> Bool {
        let d1 = p / 100_000, d2 = p / 10_000, d3 = p / 1000, d4 = p / 100
        switch d1 {
        case 4: return length == 13 || length == 16 || length == 19
        case 2: return d4 >= 2221 && d4 <= 2720 && length == 16
        case 5:
            if d2 >= 51 && d2 <= 55 { return length == 16 }
            return (d2 == 50 || d2 >= 56) && length >= 12  // Maestro
        case 3:
            if d2 == 34 || d2 == 37 { return length == 15 }
            if d4 >= 3528 && d4 <= 3589 { return length >= 16 }
            if d2 == 36 || d2 == 38 || d2 == 39 || (d3 >= 300 && d3 <= 305) { return length >= 14 }
            return false
        case 6:
            if d4 == 6011 || d2 == 65 || (d3 >= 644 && d3 <= 649) || d2 == 62 { return length >= 16 }
            return length >= 12  // Maestro 6xxx
        default: return false
        }
    }

    /// US Social Security Number rules: area 001-899 except 666, group 01-99, serial 0001-9999.
    public static func isValidSSN(area: Int, group: Int, serial: Int) -> Bool {
        area > 0 && area != 666 && area < 900 && group > 0 && group < 100 && serial > 0 && serial < 10000
    }

    /// IBAN check (ISO 13616): move the first four characters to the end, letters become 10...35,
    /// and the number mod 97 must be 1. `chars` are uppercase letters and digits, no spaces.
    public static func ibanMod97(_ chars: some Collection<UInt8>) -> Bool {
        guard chars.count >= 5 else { return false }
        var remainder = 0
        let all = Array(chars)
        let rotated = all[4...] + all[..<4]
        for c in rotated {
            if RedactionBytes.isDigit(c) {
                remainder = (remainder * 10 + Int(c &- 0x30)) % 97
            } else if RedactionBytes.isUpper(c) {
                remainder = (remainder * 100 + Int(c &- 0x41) + 10) % 97
            } else {
                return false
            }
        }
        return remainder == 1
    }

    /// IBAN length by country, for the countries whose length we check (others: 15...34).
    static func ibanLength(_ c0: UInt8, _ c1: UInt8) -> Int? {
        switch (c0, c1) {
        case (0x41, 0x44): return 24  // AD
        case (0x41, 0x54): return 20  // AT
        case (0x42, 0x45): return 16  // BE
        case (0x42, 0x47): return 22  // BG
        case (0x43, 0x48): return 21  // CH
        case (0x43, 0x5A): return 24  // CZ
        case (0x44, 0x45): return 22  // DE
        case (0x44, 0x4B): return 18  // DK
        case (0x45, 0x45): return 20  // EE
        case (0x45, 0x53): return 24  // ES
        case (0x46, 0x49): return 18  // FI
        case (0x46, 0x52): return 27  // FR
        case (0x47, 0x42): return 22  // GB
        case (0x47, 0x52): return 27  // GR
        case (0x48, 0x52): return 21  // HR
        case (0x48, 0x55): return 28  // HU
        case (0x49, 0x45): return 22  // IE
        case (0x49, 0x54): return 27  // IT
        case (0x4C, 0x55): return 20  // LU
        case (0x4E, 0x4C): return 18  // NL
        case (0x4E, 0x4F): return 15  // NO
        case (0x50, 0x4C): return 28  // PL
        case (0x50, 0x54): return 25  // PT
        case (0x52, 0x4F): return 24  // RO
        case (0x53, 0x45): return 24  // SE
        case (0x53, 0x49): return 19  // SI
        case (0x53, 0x4B): return 24  // SK
        default: return nil
        }
    }
}
