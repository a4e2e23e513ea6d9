import LogBridgeCore
/// Key/value pairs with configurable separators, in the manner of Logstash's `kv` filter and
/// Vector's `parse_key_value`: `field_split` defaults to a space, `value_split` to `=`.
///
/// Rules, chosen so that no input fails the whole record:
/// - separators are byte *sequences* (Vector semantics: `", "` is one two-byte separator),
///   not Logstash's character sets; an empty separator falls back to the default;
/// - runs of separators and blanks between pairs are skipped (trailing separators are fine);
/// - with `trimQuotes`, a value (or key) in `"..."` or `'...'` may contain the separators;
///   `\<quote>` and `\\` inside it are unescaped, other backslashes are kept (Windows paths);
///   an unterminated quote takes the rest of the text; a closing quote followed by more text
///   before the next field separator means the value was not really quoted and is read raw;
/// - when the field separator is not blank, spaces and tabs around keys, values and the
///   value separator are trimmed; when it is blank (the default) they separate fields instead;
/// - a key without a value separator is reported with a nil value; pairs with an empty key
///   are skipped; duplicate keys are all reported, in order.
public struct KeyValueParser: Sendable {
    /// Separator between pairs. Default: `" "`.
    public let fieldSeparator: [UInt8]
    /// Separator between a key and its value. Default: `"="`.
    public let valueSeparator: [UInt8]
    /// Whether `"..."` / `'...'` around values and keys are removed. Default: true.
    public let trimQuotes: Bool
    /// Whether the field separator is made of blanks, which disables blank trimming.
    private let fieldSeparatorIsBlank: Bool

    public init(fieldSeparator: [UInt8] = [0x20], valueSeparator: [UInt8] = [0x3D], trimQuotes: Bool = true) {
        self.fieldSeparator = fieldSeparator.isEmpty ? [0x20] : fieldSeparator
        self.valueSeparator = valueSeparator.isEmpty ? [0x3D] : valueSeparator
        self.trimQuotes = trimQuotes
        self.fieldSeparatorIsBlank = self.fieldSeparator.allSatisfy(ASCIIBytes.isBlank)
    }

    /// Calls `body` for every pair of `text`, left to right.
    ///
    /// - Parameters:
    ///   - scratch: reused storage for quoted values that contain escapes; its contents are
    ///     replaced. Other values point straight into `text`.
    ///   - body: receives the key and the value (nil for a key without a value separator).
    ///     Both buffers are valid only during the call.
    /// - Complexity: O(n * s) for separators of s bytes; every byte is visited a bounded
    ///   number of times, including on unterminated quotes.
    public func forEachPair(
        in text: UnsafeRawBufferPointer,
        scratch: inout [UInt8],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) -> Void
    ) {
        fieldSeparator.withUnsafeBytes { fs in
            valueSeparator.withUnsafeBytes { vs in
                forEachPair(text, fs: fs, vs: vs, scratch: &scratch, body)
            }
        }
    }

    @inline(__always)
    private func isQuote(_ c: UInt8) -> Bool { c == ParserBytes.doubleQuote || c == ParserBytes.singleQuote }

    /// Index of the quote closing the one at `open`, or nil; notes whether a backslash occurred.
    @inline(__always)
    private func closingQuote(_ text: UnsafeRawBufferPointer, open: Int, end: Int, hasEscape: inout Bool) -> Int? {
        let q = text[open]
        var j = open + 1
        while j < end {
            let c = text[j]
            if c == q { return j }
            if c == ParserBytes.backslash { hasEscape = true; j += 2; continue }
            j += 1
        }
        return nil
    }

    private func forEachPair(
        _ text: UnsafeRawBufferPointer,
        fs: UnsafeRawBufferPointer,
        vs: UnsafeRawBufferPointer,
        scratch: inout [UInt8],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) -> Void
    ) {
        let n = text.count
        let trimBlanks = !fieldSeparatorIsBlank
        var i = 0

        // A separator may begin with a blank (`" | "`, `" = "`): blank skipping stops at one.
        // Skipping its first blank made the separator unrecognisable, so a quoted value kept its
        // quotes and the next key began with `|` (found by fuzzing, Fuzz/Corpus/kv/).
        @inline(__always) func skipBlanks(_ k: inout Int) {
            while k < n && ASCIIBytes.isBlank(text[k]) && !ParserBytes.matches(text, at: k, end: n, fs)
                && !ParserBytes.matches(text, at: k, end: n, vs) {
                k += 1
            }
        }
        @inline(__always) func atBoundary(_ k: Int) -> Bool {
            k == n || ParserBytes.matches(text, at: k, end: n, fs)
        }

        while i < n {
            // Skip blanks and empty fields.
            while i < n {
                if ParserBytes.matches(text, at: i, end: n, fs) { i += fs.count } else if ASCIIBytes.isBlank(text[i]) { i += 1 } else { break }
            }
            if i == n { return }

            // Key: quoted (when the quote really closes the key) or raw up to a separator.
            var keyRange = i..<i
            var keyDone = false
            if trimQuotes && isQuote(text[i]) {
                var ignored = false
                if let close = closingQuote(text, open: i, end: n, hasEscape: &ignored) {
                    var k = close + 1
                    if trimBlanks { skipBlanks(&k) }
                    if atBoundary(k) || ParserBytes.matches(text, at: k, end: n, vs) {
                        keyRange = (i + 1)..<close
                        i = k
                        keyDone = true
                    }
                }
            }
            if !keyDone {
                let start = i
                while i < n && !ParserBytes.matches(text, at: i, end: n, vs) && !ParserBytes.matches(text, at: i, end: n, fs) { i += 1 }
                var keyEnd = i
                while keyEnd > start && ASCIIBytes.isBlank(text[keyEnd - 1]) { keyEnd -= 1 }
                keyRange = start..<keyEnd
            }
            let key = UnsafeRawBufferPointer(rebasing: text[keyRange])

            guard ParserBytes.matches(text, at: i, end: n, vs) else {
                // At a field separator or the end: a bare key.
                if !key.isEmpty { body(key, nil) }
                continue
            }
            i += vs.count
            if trimBlanks { skipBlanks(&i) }

            // Value: quoted when the closing quote ends the field; raw otherwise.
            if trimQuotes && i < n && isQuote(text[i]) {
                var hasEscape = false
                if let close = closingQuote(text, open: i, end: n, hasEscape: &hasEscape) {
                    var k = close + 1
                    if trimBlanks { skipBlanks(&k) }
                    if atBoundary(k) {
                        emitQuoted(text, key: key, from: i + 1, to: close, quote: text[i], hasEscape: hasEscape, scratch: &scratch, body)
                        i = k
                        continue
                    }
                } else {
                    // Unterminated quote: the rest of the text is the value.
                    emitQuoted(text, key: key, from: i + 1, to: n, quote: text[i], hasEscape: hasEscape, scratch: &scratch, body)
                    return
                }
            }
            let start = i
            while i < n && !ParserBytes.matches(text, at: i, end: n, fs) { i += 1 }
            var valueEnd = i
            if trimBlanks { while valueEnd > start && ASCIIBytes.isBlank(text[valueEnd - 1]) { valueEnd -= 1 } }
            if !key.isEmpty { body(key, UnsafeRawBufferPointer(rebasing: text[start..<valueEnd])) }
        }
    }

    @inline(__always)
    private func emitQuoted(
        _ text: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer, from start: Int, to end: Int, quote: UInt8,
        hasEscape: Bool, scratch: inout [UInt8],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) -> Void
    ) {
        guard !key.isEmpty else { return }
        guard hasEscape else {
            body(key, UnsafeRawBufferPointer(rebasing: text[start..<end]))
            return
        }
        scratch.removeAll(keepingCapacity: true)
        var j = start
        while j < end {
            let c = text[j]
            if c == ParserBytes.backslash && j + 1 < end && (text[j + 1] == quote || text[j + 1] == ParserBytes.backslash) {
                scratch.append(text[j + 1])
                j += 2
            } else {
                scratch.append(c)
                j += 1
            }
        }
        scratch.withUnsafeBytes { body(key, $0) }
    }
}
