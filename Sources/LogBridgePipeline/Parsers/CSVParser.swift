/// One CSV record: RFC 4180 quoting (a field in quotes may contain the separator, and `""`
/// inside it is one quote); the separator is configurable (`,` `;` `\t` `|`).
///
/// Lenient like Python's `csv` module rather than failing the record: a quote inside an
/// unquoted field is literal, text after a closing quote is appended to the field
/// (`"ab"cd` -> `abcd`), and an unterminated quote takes the rest of the line.
/// One trailing `"\n"` or `"\r\n"` is ignored. Empty input has no fields; `a,` has two.
public struct CSVParser: Sendable {
    /// Field separator. Default: `,`.
    public let separator: UInt8
    /// Quote byte. Default: `"`.
    public let quote: UInt8

    public init(separator: UInt8 = 0x2C, quote: UInt8 = 0x22) {
        self.separator = separator
        self.quote = quote
    }

    /// Calls `body` with each field of `line` and its zero-based index.
    ///
    /// - Parameters:
    ///   - scratch: reused storage for fields that need unescaping; its contents are replaced.
    ///     Other fields point straight into `line`.
    ///   - body: the field buffer is valid only during the call.
    public func forEachField(
        in line: UnsafeRawBufferPointer,
        scratch: inout [UInt8],
        _ body: (_ index: Int, _ field: UnsafeRawBufferPointer) -> Void
    ) {
        var end = line.count
        if end > 0 && line[end - 1] == 0x0A { end -= 1 }
        if end > 0 && line[end - 1] == 0x0D { end -= 1 }
        if end == 0 { return }

        var i = 0
        var index = 0
        while true {
            if i < end && line[i] == quote {
                var j = i + 1
                var hasDoubled = false
                var close = -1
                while j < end {
                    if line[j] == quote {
                        if j + 1 < end && line[j + 1] == quote { hasDoubled = true; j += 2; continue }
                        close = j
                        break
                    }
                    j += 1
                }
                if close < 0 {
                    emit(line, index: index, from: i + 1, to: end, doubled: hasDoubled, tail: end..<end, scratch: &scratch, body)
                    return
                }
                var k = close + 1
                while k < end && line[k] != separator { k += 1 }
                emit(line, index: index, from: i + 1, to: close, doubled: hasDoubled, tail: (close + 1)..<k, scratch: &scratch, body)
                i = k
            } else {
                let start = i
                while i < end && line[i] != separator { i += 1 }
                body(index, UnsafeRawBufferPointer(rebasing: line[start..<i]))
            }
            index += 1
            if i >= end { return }
            i += 1 // the separator; if it was the last byte, the loop emits one empty field
        }
    }

    /// Emits a quoted field's content, copying only when it has doubled quotes or a tail.
    @inline(__always)
    private func emit(
        _ line: UnsafeRawBufferPointer, index: Int, from start: Int, to end: Int, doubled: Bool, tail: Range<Int>,
        scratch: inout [UInt8], _ body: (_ index: Int, _ field: UnsafeRawBufferPointer) -> Void
    ) {
        guard doubled || !tail.isEmpty else {
            body(index, UnsafeRawBufferPointer(rebasing: line[start..<end]))
            return
        }
        scratch.removeAll(keepingCapacity: true)
        var j = start
        var runStart = start
        while j < end {
            if line[j] == quote {
                // Keep the first quote of the pair, skip the second.
                scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[runStart...j]))
                j += 2
                runStart = j
            } else {
                j += 1
            }
        }
        if runStart < end { scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[runStart..<end])) }
        if !tail.isEmpty { scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: line[tail])) }
        scratch.withUnsafeBytes { body(index, $0) }
    }
}
