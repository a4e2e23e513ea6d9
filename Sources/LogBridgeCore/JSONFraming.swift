#if canImport(Glibc)
import Glibc
#endif

/// Putting a record's bytes into a line-framed document (Elasticsearch bulk NDJSON, HEC event
/// batches, the file sink's lines) as exactly one unit, whatever the bytes are.
///
/// A valid JSON value may hold raw CR or LF between tokens (a producer that pretty-prints): copied
/// as it is into a bulk body it splits into several lines, and a record shaped for it could add a
/// bulk action of its own. Inside a valid value CR and LF can only be insignificant whitespace
/// (inside strings they must be escaped), so turning each into a space keeps the value's meaning
/// and its length. Invalid UTF-8 makes a record invalid JSON; replacing each invalid sequence with
/// U+FFFD keeps the rest of the record (and its structure, when that was the only fault).
extension JSONBytes {
    /// Appends `value`, which must be valid JSON, on one line: each raw CR or LF becomes a space.
    public static func appendSingleLine(_ value: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        appendSingleLine(value, lineBreaks: true, to: &out)
    }

    /// ``appendSingleLine(_:to:)`` for a value whose validation said whether it holds a raw CR or
    /// LF (``isValid(_:lineBreaks:)``): without any, it is copied with no search (two `memchr`
    /// passes over every record, ~1% of the Elasticsearch and HEC rows).
    public static func appendSingleLine(_ value: UnsafeRawBufferPointer, lineBreaks: Bool, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: value)
        guard lineBreaks, containsLineBreak(value) else { return }
        for i in start..<out.count where out[i] == 0x0A || out[i] == 0x0D { out[i] = 0x20 }
    }

    /// Whether `bytes` hold a CR or an LF (memchr: the common answer, no, costs little).
    public static func containsLineBreak(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        return memchr(base, 0x0A, bytes.count) != nil || memchr(base, 0x0D, bytes.count) != nil
    }

    /// Whether `bytes` hold any byte of 0x80 or above (that is, anything but ASCII), eight bytes at
    /// a time.
    public static func containsNonASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            if bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return true }
            i += 8
        }
        while i < n {
            if bytes[i] >= 0x80 { return true }
            i += 1
        }
        return false
    }

    /// Copies `bytes` into `out` (replacing its contents) with every invalid UTF-8 sequence (a
    /// stray continuation byte, a truncated sequence, an overlong form, a surrogate, a value above
    /// U+10FFFF) replaced by U+FFFD, one replacement per invalid byte.
    /// - Returns: how many replacements were made; 0 means `out` equals `bytes`.
    @discardableResult
    public static func replacingInvalidUTF8(_ bytes: UnsafeRawBufferPointer, into out: inout [UInt8]) -> Int {
        out.removeAll(keepingCapacity: true)
        out.reserveCapacity(bytes.count + 8)
        var replaced = 0
        var i = 0
        var runStart = 0
        let n = bytes.count
        while i < n {
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            let length = utf8SequenceLength(bytes, at: i)
            if length > 0 {
                i += length
                continue
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i]))
            out.append(contentsOf: replacementCharacter)
            replaced += 1
            i += 1
            runStart = i
        }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<n]))
        return replaced
    }

    /// U+FFFD REPLACEMENT CHARACTER in UTF-8.
    public static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]
}
