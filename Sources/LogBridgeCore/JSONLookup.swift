#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finding one field in a JSON document without parsing the rest: for index names, labels and
/// metadata templates that read a handful of fields per event.
extension JSONBytes {
    /// The raw bytes of the value at `path` (object keys, outermost first) inside `bytes`, or nil
    /// when a key is missing or the document is malformed on the way. String values are returned
    /// without their quotes (escapes left as they are); other values as written.
    public static func lookup(_ path: [String], in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        lookup(keys: path.map { Array($0.utf8) }, in: bytes)
    }

    /// `lookup` with the keys already as UTF-8, for callers that look the same path up in every
    /// record (templates, the CRI joiner): no conversion per call.
    public static func lookup(keys path: [[UInt8]], in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        lookup(keys: path, from: 0, in: bytes)
    }

    /// `lookup` of the path `path[start...]`: a template reading a field inside a member it has
    /// found already, without slicing (and so retaining) its path for every record.
    public static func lookup(keys path: [[UInt8]], from start: Int, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        lookup(depths: start..<path.count, in: bytes) { scanner, depth in path[depth].withUnsafeBytes { scanner.find(key: $0) } }
    }

    /// `lookup(keys:from:in:)` with keys the caller keeps in memory of its own (field templates):
    /// passing an array's element arrays to the scanner retains and releases each of them per
    /// call, and templates look up a field in every record.
    public static func lookup(
        keys path: UnsafeBufferPointer<UnsafeRawBufferPointer>, from start: Int, in bytes: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer? {
        lookup(depths: start..<path.count, in: bytes) { scanner, depth in scanner.find(key: path[depth]) }
    }

    /// The walk both `lookup(keys:from:in:)` take: `find` moves the scanner to the key at each
    /// depth in turn; the last one's value is the answer.
    @inline(__always) private static func lookup(
        depths: Range<Int>, in bytes: UnsafeRawBufferPointer, find: (inout Scanner, Int) -> Bool
    ) -> UnsafeRawBufferPointer? {
        guard !depths.isEmpty else { return nil }
        var scanner = Scanner(bytes: bytes)
        for depth in depths {
            guard find(&scanner, depth) else { return nil }
        }
        return scanner.valueRange().map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
    }

    /// Whether the top-level object has `key`.
    public static func hasTopLevelKey(_ key: String, in bytes: UnsafeRawBufferPointer) -> Bool {
        var scanner = Scanner(bytes: bytes)
        return Array(key.utf8).withUnsafeBytes { scanner.find(key: $0) }
    }

    /// A member's raw value as `lookup` returns it: a string without its quotes, anything else as
    /// written. For values found by `isValidObject(_:noting:into:)`.
    public static func unquoted(_ value: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        guard value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") else { return value }
        return UnsafeRawBufferPointer(rebasing: value[(value.startIndex + 1)..<(value.endIndex - 1)])
    }

    struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        /// Inlined, with one comparison for the usual case (a token, every one of which starts above
        /// 0x20), as in the validator: the scanner skips space four times per member.
        @inline(__always) mutating func skipSpace() {
            while index < bytes.count {
                let b = bytes[index]
                if b > 0x20 { return }
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                index += 1
            }
        }

        /// Expects an object at the current position and moves to the value of `key`.
        mutating func find(key wanted: UnsafeRawBufferPointer) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
            index += 1
            while true {
                skipSpace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: "}") { return false }
                guard bytes[index] == UInt8(ascii: "\""), let name = stringRange() else { return false }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                index += 1
                skipSpace()
                if ByteKey.equal(UnsafeRawBufferPointer(rebasing: bytes[name]), wanted) { return true }
                guard skipValue(depth: 0) else { return false }
                skipSpace()
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: ",") { index += 1 } else { return false }
            }
        }

        /// The current value's range (string contents without quotes).
        mutating func valueRange() -> Range<Int>? {
            skipSpace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "\"") { return stringRange() }
            let start = index
            guard skipValue(depth: 0) else { return nil }
            return start..<index
        }

        /// Moves past a string; returns its contents' range. Inlined into the member loops (keys
        /// and string values, most of what they read), as the validator's string scan is.
        @inline(__always) mutating func stringRange() -> Range<Int>? {
            index += 1
            let start = index
            let n = bytes.count
            while index < n {
                // Eight bytes at a time until a quote or a backslash: lookups skip whole records'
                // worth of strings to reach one key, and byte by byte this loop was the single
                // hottest symbol of the Elasticsearch profile.
                index = JSONBytes.skipToQuoteOrBackslash(bytes, from: index)
                guard index < n else { break }
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"):
                    index += 2
                default:
                    index += 1
                }
            }
            return nil
        }

        mutating func skipValue(depth: Int) -> Bool {
            guard depth < 512, index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return stringRange() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index += 1
                while true {
                    skipSpace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == close { index += 1; return true }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipSpace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == UInt8(ascii: ",") || bytes[index] == UInt8(ascii: ":") { index += 1 }
                }
            default:
                let start = index
                while index < bytes.count {
                    let b = bytes[index]
                    if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { break }
                    index += 1
                }
                // An empty scalar is a malformed document (`[}`, `{"a":,`). Accepting it without
                // moving left the container loop above spinning on the same byte forever: a
                // record or an HTTP answer like `{"a":[}` hung the thread reading it (found by
                // fuzzing, Fuzz/Corpus/json/lookup-mismatched-bracket).
                return index > start
            }
        }
    }
}

extension JSONBytes {
    /// Notes where each of `keys` is among the top-level members of the object in `bytes`, in one
    /// scan that validates nothing beyond what it needs to skip values: `found[k]` becomes the raw
    /// range of the value of `keys[k]` (strings with their quotes), or stays nil; a key may be
    /// listed more than once, and each of its slots is noted. The scan stops
    /// as soon as `keys[stopAt]` is found: the usual case for a record that carries its preferred
    /// field first (Fluent Bit writes `@timestamp` first).
    /// - Returns: false when `bytes` is not an object or is malformed before the scan ended.
    public static func noteTopLevelMembers(
        _ bytes: UnsafeRawBufferPointer, keys: [[UInt8]], into found: inout [Range<Int>?], stopAt: Int?
    ) -> Bool {
        for k in found.indices { found[k] = nil }
        var scanner = Scanner(bytes: bytes)
        scanner.skipSpace()
        guard scanner.index < bytes.count, bytes[scanner.index] == UInt8(ascii: "{") else { return false }
        scanner.index += 1
        while true {
            scanner.skipSpace()
            guard scanner.index < bytes.count else { return false }
            if bytes[scanner.index] == UInt8(ascii: "}") { return true }
            guard bytes[scanner.index] == UInt8(ascii: "\""), let name = scanner.stringRange() else { return false }
            scanner.skipSpace()
            guard scanner.index < bytes.count, bytes[scanner.index] == UInt8(ascii: ":") else { return false }
            scanner.index += 1
            scanner.skipSpace()
            let start = scanner.index
            guard scanner.skipValue(depth: 0) else { return false }
            // Every slot of that name (several templates may read the same field), first
            // occurrence only.
            var stop = false
            for slot in keys.indices where found[slot] == nil && ByteKey.equal(bytes[name], keys[slot]) {
                found[slot] = start..<scanner.index
                if slot == stopAt { stop = true }
            }
            if stop { return true }
            scanner.skipSpace()
            guard scanner.index < bytes.count else { return false }
            if bytes[scanner.index] == UInt8(ascii: ",") { scanner.index += 1 } else { return bytes[scanner.index] == UInt8(ascii: "}") }
        }
    }
}

extension JSONBytes {
    /// Whether `"key"` (the key between quotes, as written) occurs anywhere in `bytes`: when it
    /// does not, no member of that name exists at any depth, and a scan for it can be skipped.
    /// memchr hops to each candidate first byte, so a record without it costs one fast pass.
    public static func containsQuoted(_ key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = key.first, let base = bytes.baseAddress, bytes.count >= key.count + 2 else { return false }
        var i = 1
        let last = bytes.count - key.count - 1
        while i <= last {
            guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return false }
            let at = UnsafeRawPointer(hit) - base
            if bytes[at - 1] == UInt8(ascii: "\""), bytes[at + key.count] == UInt8(ascii: "\""),
               key.withUnsafeBytes({ memcmp(base + at, $0.baseAddress!, key.count) == 0 }) {
                return true
            }
            i = at + 1
        }
        return false
    }
}
