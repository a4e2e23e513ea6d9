/// Byte-level JSON helpers for the hot path.
///
/// Foundation's JSON measured 10-36 MB/s here (docs/environment.md), far below line rate, and no mirrored
/// library validates JSON on raw bytes, so these few routines are written by hand: a validator
/// that allocates nothing, and a string escaper that appends to a byte buffer.
public enum JSONBytes {
    /// Whether `bytes` hold exactly one JSON value (RFC 8259), surrounded by optional whitespace.
    ///
    /// String contents are checked for control characters and escapes; UTF-8 well-formedness of
    /// string contents is checked too, so a valid result can be embedded in a JSON document as is.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var lineBreaks = false
        return isValid(bytes, lineBreaks: &lineBreaks)
    }

    /// ``isValid(_:)``, also telling whether the value holds a raw CR or LF. In a valid value
    /// they can only be whitespace between tokens, which the validator skips anyway: encoders
    /// that must put each record on one line then need no search of their own
    /// (``appendSingleLine(_:lineBreaks:to:)``).
    public static func isValid(_ bytes: UnsafeRawBufferPointer, lineBreaks: inout Bool) -> Bool {
        var parser = Validator(bytes: bytes)
        defer { lineBreaks = parser.lineBreaks }
        parser.skipSpace()
        guard parser.value(depth: 0) else { return false }
        parser.skipSpace()
        return parser.index == bytes.count
    }

    /// Whether `bytes` hold exactly one valid JSON object, noting in the same pass where the values
    /// of the top-level members named `keys` are (raw, strings with their quotes; the first
    /// occurrence of each; nil when absent). `found` must have one slot per key.
    ///
    /// One pass instead of a validation and one lookup per key: the Elasticsearch builder needs
    /// validity, `@timestamp` and its index template's fields for every record, and the three
    /// scans were a fifth of the forwarder's CPU (Benchmarks/results/profile-es.txt).
    public static func isValidObject(_ bytes: UnsafeRawBufferPointer, noting keys: [[UInt8]], into found: inout [Range<Int>?]) -> Bool {
        var lineBreaks = false
        return isValidObject(bytes, noting: keys, into: &found, lineBreaks: &lineBreaks)
    }

    /// ``isValidObject(_:noting:into:)``, also telling whether the object holds a raw CR or LF
    /// (see ``isValid(_:lineBreaks:)``).
    public static func isValidObject(
        _ bytes: UnsafeRawBufferPointer, noting keys: [[UInt8]], into found: inout [Range<Int>?], lineBreaks: inout Bool
    ) -> Bool {
        precondition(found.count == keys.count, "one slot per key")
        var parser = Validator(bytes: bytes)
        defer { lineBreaks = parser.lineBreaks }
        parser.skipSpace()
        guard parser.current == UInt8(ascii: "{") else { return false }
        // No keys: the array is not touched at all. Asking an empty array for mutable storage
        // allocates (the shared empty buffer is never unique), and the validator did so for every
        // record and every nested object, a malloc and a free each (see `Validator.object`).
        let valid: Bool
        if keys.isEmpty {
            valid = parser.object(depth: 0, noting: keys, into: UnsafeMutableBufferPointer(start: nil, count: 0))
        } else {
            valid = found.withUnsafeMutableBufferPointer { found in
                found.update(repeating: nil)
                return parser.object(depth: 0, noting: keys, into: found)
            }
        }
        guard valid else { return false }
        parser.skipSpace()
        return parser.index == bytes.count
    }

    /// Appends `bytes` as a JSON string literal (with quotes), escaping what JSON requires.
    /// Invalid UTF-8 sequences become U+FFFD, so the output is always valid JSON.
    /// - Returns: how many invalid bytes were replaced.
    @discardableResult
    public static func appendString(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Int {
        out.append(UInt8(ascii: "\""))
        let replaced = appendEscaped(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
        return replaced
    }

    /// Appends `bytes` escaped for the inside of a JSON string, without the quotes.
    /// - Returns: how many invalid UTF-8 bytes were replaced by U+FFFD.
    ///
    /// Loki sends each record as a JSON string, so a JSON record is escaped at every quote, some
    /// thirty times per record. Output is staged in 512 bytes on the stack and appended a chunk at
    /// a time (an append per run and per escape, each with a uniqueness and capacity check, was 15%
    /// of the Loki bench profile). Plain text is read eight bytes at a time and each word stored
    /// whole as it is read; in an ASCII word every quote, backslash and control byte is found from
    /// one exact mask and escaped in place, the rest of the word stored again past the escape, so a
    /// word with three quotes is read once. Re-reading the text after each escape (the word at the
    /// next byte) made escaping ~50% dearer (a `swiftc -O` run over the bench's records: 290 against
    /// 190 ns per record, docs/cpu-profile.md). Words holding non-ASCII bytes, and the last few
    /// bytes, go a byte or a UTF-8 sequence at a time.
    @discardableResult
    public static func appendEscaped(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) -> Int {
        let n = bytes.count
        var i = skipPlainBytes(bytes, from: 0)
        if i == n {
            out.append(contentsOf: bytes)
            return 0
        }
        var replaced = 0
        let capacity = 512
        // The slack past `capacity`: a chunk is flushed once more than `capacity - 8` bytes are
        // used, and one word can then still add 48 bytes (eight control bytes, six each) and store
        // 8 more past them.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity + 64) { chunkBuffer in
            let chunk = UnsafeMutableRawPointer(chunkBuffer.baseAddress!)
            var used = 0
            @inline(__always) func flushIfFull() {
                if used > capacity - 8 {
                    out.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: used))
                    used = 0
                }
            }
            if i > 0 {
                if i <= capacity - 8 {
                    chunk.copyMemory(from: bytes.baseAddress!, byteCount: i)
                    used = i
                } else {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<i]))
                }
            }
            while i < n {
                if i + 8 <= n {
                    let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    if word & 0x8080_8080_8080_8080 == 0 {
                        // ASCII: every quote, backslash and control byte of the word is escaped
                        // here, the bytes after each stored shifted past its escape.
                        var flags = exactEscapeMask(word)
                        (chunk + used).storeBytes(of: word.littleEndian, as: UInt64.self)
                        while flags != 0 {
                            let k = flags.trailingZeroBitCount >> 3
                            let b = UInt8(truncatingIfNeeded: word >> UInt64(k << 3))
                            let at = used + k
                            let rest = k == 7 ? 0 : word >> UInt64((k + 1) << 3)
                            let (escape, width) = escapeSequence(b)
                            (chunk + at).storeBytes(of: escape.littleEndian, as: UInt64.self)
                            (chunk + at + width).storeBytes(of: rest.littleEndian, as: UInt64.self)
                            used += width - 1
                            flags &= flags &- 1
                        }
                        used += 8
                        i += 8
                        flushIfFull()
                        continue
                    }
                    // Non-ASCII in the word: the bytes before its first special one as they are.
                    let plain = specialByteMask(word).trailingZeroBitCount >> 3
                    (chunk + used).storeBytes(of: word.littleEndian, as: UInt64.self)
                    used += plain
                    i += plain
                }
                let b = bytes[i]
                if b >= 0x80 {
                    let length = utf8SequenceLength(bytes, at: i)
                    if length > 0 {
                        for k in 0..<length { chunk.storeBytes(of: bytes[i + k], toByteOffset: used + k, as: UInt8.self) }
                        used += length
                        i += length
                    } else {
                        chunk.storeBytes(of: 0xEF, toByteOffset: used, as: UInt8.self)
                        chunk.storeBytes(of: 0xBF, toByteOffset: used + 1, as: UInt8.self)
                        chunk.storeBytes(of: 0xBD, toByteOffset: used + 2, as: UInt8.self)
                        used += 3
                        replaced += 1
                        i += 1
                    }
                    flushIfFull()
                    continue
                }
                if b >= 0x20 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") {
                    chunk.storeBytes(of: b, toByteOffset: used, as: UInt8.self)
                    used += 1
                    i += 1
                    flushIfFull()
                    continue
                }
                let (escape, width) = escapeSequence(b)
                (chunk + used).storeBytes(of: escape.littleEndian, as: UInt64.self)
                used += width
                i += 1
                flushIfFull()
            }
            out.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: used))
        }
        return replaced
    }

    /// The JSON escape of a quote, backslash or control byte: its bytes, first in the lowest, and
    /// how many there are (2, or 6 for `\u00XX`). Stored as a whole word; the bytes past `width`
    /// are overwritten next.
    @inline(__always) static func escapeSequence(_ b: UInt8) -> (bytes: UInt64, width: Int) {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): return (UInt64(b) << 8 | 0x5C, 2)
        case 0x0A: return (0x6E5C, 2)  // \n
        case 0x0D: return (0x725C, 2)  // \r
        case 0x09: return (0x745C, 2)  // \t
        default: return (0x3030_755C | UInt64(hexDigit(b >> 4)) << 32 | UInt64(hexDigit(b & 0xF)) << 40, 6)
        }
    }

    /// The high bit of each quote, backslash and control byte of an ASCII word, exactly: the sums
    /// stay within each byte (no borrow into the next, unlike ``specialByteMask(_:)``), so every
    /// flagged byte is one and all of them can be escaped from one mask.
    @inline(__always) static func exactEscapeMask(_ x: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let highs: UInt64 = 0x8080_8080_8080_8080
        let q = x ^ 0x2222_2222_2222_2222
        let bs = x ^ 0x5C5C_5C5C_5C5C_5C5C
        let notQuote = ((q & low7) &+ low7) | q
        let notBackslash = ((bs & low7) &+ low7) | bs
        let notControl = ((x & low7) &+ 0x6060_6060_6060_6060) | x
        return ~(notQuote & notBackslash & notControl) & highs
    }

    /// The lowercase hexadecimal digit for `nibble` (0-15).
    @inline(__always) static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// `string` as a quoted, escaped JSON string (for output built as `String`, once per line).
    public static func quoted(_ string: String) -> String {
        var out: [UInt8] = []
        appendString(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func appendString(_ string: String, to out: inout [UInt8]) {
        var copy = string
        copy.withUTF8 { appendString(UnsafeRawBufferPointer($0), to: &out) }
    }

    /// Appends the decimal digits of `value` without going through `String`.
    public static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            if value == .min { out.append(contentsOf: Array("9223372036854775808".utf8)); return }
            appendUnsigned(UInt64(-value), to: &out)
        } else {
            appendUnsigned(UInt64(value), to: &out)
        }
    }

    /// Appends `value` in decimal. The digits are written into 20 bytes on the stack from the
    /// right and appended once: every record's offset and partition go through here (the `_id`,
    /// HEC's `event_id`, the file envelope), and appending zeros through the generic `Repeated`
    /// path, then storing each digit through a checked subscript, showed in every sink's profile.
    public static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            let start = writeDecimal(value, endingAt: digits.count, in: digits)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Writes `value` in decimal right to left, its last digit just before `end` in `buffer`;
    /// returns where its first digit is. For writers that compose several members on the stack and
    /// append them once (a record's identity, the file envelope); `buffer` must have room (20
    /// bytes for any value).
    @inlinable public static func writeDecimal(_ value: UInt64, endingAt end: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var v = value
        var start = end
        repeat {
            start -= 1
            buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
            v /= 10
        } while v > 0
        return start
    }

    /// `prefix`, `first`, `separator`, `second`, `suffix` in decimal and literal text, written right
    /// to left into a stack buffer and appended once: a record's identity (`-partition-offset"`)
    /// and the file envelope's `partition,"offset":offset`. As separate appends of integers and
    /// bytes (each with its uniqueness and capacity checks) they were ~2% of a sink's profile.
    public static func appendDecimals(
        _ first: Int64, _ second: Int64, prefix: StaticString = "", separator: StaticString, suffix: StaticString = "",
        to out: inout [UInt8]
    ) {
        let capacity = 42 + prefix.utf8CodeUnitCount + separator.utf8CodeUnitCount + suffix.utf8CodeUnitCount
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { text in
            func put(_ literal: StaticString, endingAt end: Int) -> Int {
                let start = end - literal.utf8CodeUnitCount
                if start < end { UnsafeMutableRawPointer(text.baseAddress! + start).copyMemory(from: literal.utf8Start, byteCount: end - start) }
                return start
            }
            var start = put(suffix, endingAt: text.count)
            start = put(separator, endingAt: writeDecimal(second, endingAt: start, in: text))
            start = put(prefix, endingAt: writeDecimal(first, endingAt: start, in: text))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: text[start...]))
        }
    }

    /// ``writeDecimal(_:endingAt:in:)`` for a signed value: a minus sign first when negative (21
    /// bytes at most).
    @inlinable public static func writeDecimal(_ value: Int64, endingAt end: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var start = writeDecimal(value.magnitude, endingAt: end, in: buffer)
        if value < 0 {
            start -= 1
            buffer[start] = UInt8(ascii: "-")
        }
        return start
    }

    /// Scans a JSON string's content from `start` (just after its opening quote): the index of the
    /// closing quote and whether the content has escapes, or nil when the string is unterminated or
    /// malformed (a control byte, a bad escape, invalid UTF-8). The validator and the pipeline's
    /// tree builder both scan strings with it.
    public static func scanString(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (end: Int, escaped: Bool)? {
        scanStringInlined(bytes, from: start)
    }

    /// ``scanString(_:from:)`` inlined into its caller: the validator's (keys and string values,
    /// some eighteen per log record). As a call of its own, with its registers saved and restored
    /// each time, validation took 13-20% longer (a `swiftc -O` run over the bench's records: 280-300
    /// against 230-260 ns per record).
    @inline(__always) static func scanStringInlined(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (end: Int, escaped: Bool)? {
        var index = start
        let n = bytes.count
        var escaped = false
        while index < n {
            // Eight plain bytes at a time: most of a log line is ASCII without quotes or escapes.
            index = skipPlainBytes(bytes, from: index)
            guard index < n else { break }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") { return (index, escaped) }
            if b < 0x20 { return nil }
            if b == UInt8(ascii: "\\") {
                escaped = true
                index += 1
                guard index < n else { return nil }
                switch bytes[index] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 1
                case UInt8(ascii: "u"):
                    guard index + 4 < n else { return nil }
                    for j in 1...4 where !bytes[index + j].isHexDigit { return nil }
                    index += 5
                default: return nil
                }
                continue
            }
            if b >= 0x80 {
                let length = utf8SequenceLength(bytes, at: index)
                guard length > 0 else { return nil }
                index += length
                continue
            }
            index += 1
        }
        return nil
    }

    /// Scans a JSON number starting at `start`: the index just after it, or nil when the bytes
    /// there are not a number by the JSON grammar (no leading zeros, digits after `.` and `e`).
    public static func scanNumber(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        @inline(__always) func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i].isDigit }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { return nil }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { while digit(index) { index += 1 } }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(index) else { return nil }
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { return nil }
            while digit(index) { index += 1 }
        }
        return index
    }

    /// The index of the first quote, backslash, control byte or non-ASCII byte at or after
    /// `index`, found eight bytes at a time; or, when none is in the whole words that follow, the
    /// start of the last few (fewer than eight) bytes, which the caller reads one by one.
    ///
    /// The word that holds a special byte is not re-read byte by byte: the lowest flagged byte of
    /// the SWAR mask is exact (a borrow only flags bytes above a true one), so its bit position is
    /// the special byte's offset. Short JSON strings (keys, most values) end inside their first
    /// word, where a byte loop used to test every byte before the quote.
    @inline(__always) static func skipPlainBytes(_ bytes: UnsafeRawBufferPointer, from index: Int) -> Int {
        firstFlaggedByte(bytes, from: index, mask: specialByteMask)
    }

    /// Like ``skipPlainBytes(_:from:)`` for quotes and backslashes only: where a string may end.
    @inline(__always) public static func skipToQuoteOrBackslash(_ bytes: UnsafeRawBufferPointer, from index: Int) -> Int {
        firstFlaggedByte(bytes, from: index, mask: quoteOrBackslashMask)
    }

    /// The word-at-a-time loop of both: `mask` flags the bytes sought (inlined, so each caller
    /// gets its own loop with its mask in it).
    @inline(__always) private static func firstFlaggedByte(
        _ bytes: UnsafeRawBufferPointer, from index: Int, mask: (UInt64) -> UInt64
    ) -> Int {
        var index = index
        while index + 8 <= bytes.count {
            let flagged = mask(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            if flagged != 0 { return index + flagged.trailingZeroBitCount >> 3 }
            index += 8
        }
        return index
    }

    /// The high bit of each of the eight bytes that may be a quote, a backslash, a control byte or
    /// non-ASCII (SWAR); the lowest one set is exact, higher ones may be false.
    @inline(__always) static func specialByteMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highs
    }

    /// The high bit of each of the eight bytes that may be a quote or a backslash (SWAR); the
    /// lowest one set is exact.
    @inline(__always) static func quoteOrBackslashMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)) & highs
    }

    /// Length of a well-formed UTF-8 sequence starting at `i`, or 0 when it is malformed.
    @inline(__always)
    public static func utf8SequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        let n = bytes.count
        let b0 = bytes[i]
        @inline(__always) func cont(_ j: Int) -> Bool { j < n && bytes[j] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return cont(i + 1) ? 2 : 0
        case 0xE0...0xEF:
            guard cont(i + 1), cont(i + 2) else { return 0 }
            let b1 = bytes[i + 1]
            if b0 == 0xE0 && b1 < 0xA0 { return 0 }   // overlong
            if b0 == 0xED && b1 >= 0xA0 { return 0 }  // surrogates
            return 3
        case 0xF0...0xF4:
            guard cont(i + 1), cont(i + 2), cont(i + 3) else { return 0 }
            let b1 = bytes[i + 1]
            if b0 == 0xF0 && b1 < 0x90 { return 0 }
            if b0 == 0xF4 && b1 >= 0x90 { return 0 }
            return 4
        default:
            return 0
        }
    }

    private struct Validator {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        /// A CR or LF was skipped as whitespace.
        var lineBreaks = false
        static let maxDepth = 512

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        @inline(__always) var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        /// Inlined, with one comparison for the usual case (a token, every one of which starts
        /// above 0x20): as a call of its own it was 1.7% of the Elasticsearch profile.
        @inline(__always) mutating func skipSpace() {
            while index < bytes.count {
                let b = bytes[index]
                if b > 0x20 { return }
                if b == 0x20 || b == 0x09 {
                    index += 1
                } else if b == 0x0A || b == 0x0D {
                    lineBreaks = true
                    index += 1
                } else {
                    return
                }
            }
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maxDepth, let b = current else { return false }
            switch b {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            object(depth: depth, noting: [], into: UnsafeMutableBufferPointer(start: nil, count: 0))
        }

        /// An object, recording where the members named `keys` have their values (nested objects
        /// note nothing).
        ///
        /// `found` is a buffer, not an `inout` array: with an array the optimiser hoisted its
        /// uniqueness check out of the member loop, so every nested object (whose array was the
        /// shared empty one, never unique) allocated and freed a buffer it never wrote to.
        mutating func object(depth: Int, noting keys: [[UInt8]], into found: UnsafeMutableBufferPointer<Range<Int>?>) -> Bool {
            index += 1
            skipSpace()
            if current == UInt8(ascii: "}") { index += 1; return true }
            while true {
                skipSpace()
                let keyStart = index + 1
                guard current == UInt8(ascii: "\""), string() else { return false }
                let keyEnd = index - 1
                skipSpace()
                guard current == UInt8(ascii: ":") else { return false }
                index += 1
                skipSpace()
                let valueStart = index
                guard value(depth: depth + 1) else { return false }
                // By index, not `keys.enumerated()`: the iterator copies each key out, a retain and
                // a release per member and key, which showed once the event time fields joined the
                // keys (docs/cpu-profile.md).
                for slot in keys.indices where found[slot] == nil && ByteKey.equal(bytes[keyStart..<keyEnd], keys[slot]) {
                    found[slot] = valueStart..<index
                }
                skipSpace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return true
                default: return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            index += 1
            skipSpace()
            if current == UInt8(ascii: "]") { index += 1; return true }
            while true {
                skipSpace()
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return true
                default: return false
                }
            }
        }

        @inline(__always) mutating func string() -> Bool {
            guard let (end, _) = JSONBytes.scanStringInlined(bytes, from: index + 1) else { return false }
            index = end + 1
            return true
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let start = word.utf8Start
            for j in 0..<count where bytes[index + j] != start[j] { return false }
            index += count
            return true
        }

        mutating func number() -> Bool {
            guard let end = JSONBytes.scanNumber(bytes, from: index) else { return false }
            index = end
            return true
        }
    }
}

extension UInt8 {
    @inline(__always) public var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    @inline(__always) public var isHexDigit: Bool {
        isDigit || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
