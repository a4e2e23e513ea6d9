/// logfmt (`level=info msg="hello \"x\"" dur=1.2s flag`), as written by go-kit, logrus,
/// Heroku and Grafana: space-separated `key=value` pairs, a bare key gets a nil value.
///
/// Lenient where real-world emitters are sloppy, and never fails a whole line:
/// - quoted values use JSON escapes (`\" \\ \n \t \r \b \f \/ \uXXXX`); an unknown escape keeps
///   the escaped byte; an unterminated quote takes the rest of the text;
/// - unquoted values run to the next space or control byte and may contain `=` or `"`;
/// - `key=` gives an empty (non-nil) value; `=value` without a key is skipped;
/// - duplicate keys are all reported, in order; bytes are not UTF-8 validated.
public enum LogfmtParser {
    /// Calls `body` for every pair of `text`, left to right.
    ///
    /// - Parameters:
    ///   - text: the logfmt bytes.
    ///   - scratch: reused storage for values that contain escapes; its contents are replaced.
    ///     Values without escapes point straight into `text`, so the common path does not copy.
    ///   - body: receives the key and the value (nil for a bare key). Both buffers are valid
    ///     only during the call.
    public static func forEachPair(
        in text: UnsafeRawBufferPointer,
        scratch: inout [UInt8],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer?) -> Void
    ) {
        let n = text.count
        var i = 0
        while i < n {
            // Anything at or below space separates pairs (tabs, stray CR/LF, NUL).
            while i < n && text[i] <= ParserBytes.space { i += 1 }
            if i == n { return }

            let keyStart = i
            while i < n {
                let c = text[i]
                if c <= ParserBytes.space || c == 0x3D { break }
                i += 1
            }
            let key = UnsafeRawBufferPointer(rebasing: text[keyStart..<i])

            guard i < n && text[i] == 0x3D else {
                body(key, nil)
                continue
            }
            i += 1

            if i < n && text[i] == ParserBytes.doubleQuote {
                let start = i + 1
                var j = start
                var hasEscape = false
                while j < n {
                    let c = text[j]
                    if c == ParserBytes.doubleQuote { break }
                    if c == ParserBytes.backslash { hasEscape = true; j += 2; continue }
                    j += 1
                }
                // `j` can pass `n` by one when the text ends in a lone backslash.
                let contentEnd = min(j, n)
                i = contentEnd < n ? contentEnd + 1 : n
                guard !key.isEmpty else { continue }
                if hasEscape {
                    scratch.removeAll(keepingCapacity: true)
                    ParserBytes.appendUnescaped(text, from: start, to: contentEnd, into: &scratch)
                    scratch.withUnsafeBytes { body(key, $0) }
                } else {
                    body(key, UnsafeRawBufferPointer(rebasing: text[start..<contentEnd]))
                }
            } else {
                let start = i
                while i < n && text[i] > ParserBytes.space { i += 1 }
                guard !key.isEmpty else { continue }
                body(key, UnsafeRawBufferPointer(rebasing: text[start..<i]))
            }
        }
    }
}
