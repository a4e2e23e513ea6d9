import LogBridgeCore

/// Parses JSON text into ``Event`` nodes: spans into the arena, no copies of the text.
///
/// Written by hand for the same reason as `JSONBytes`: Foundation's JSON runs at 10-36 MB/s here.
/// Depth is limited (a record nested 100,000 deep is rejected in linear time, not by recursion
/// overflowing the stack), and any malformed input simply fails the parse.
struct JSONTreeBuilder {
    var nodes: [Event.Node]
    static let maxDepth = 256

    private var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    private var index = 0
    private var base = 0

    init(nodes: [Event.Node]) {
        self.nodes = nodes
    }

    /// Parses `text` (at arena offset `base`) as one object whose members become children of
    /// the existing object node `root`; sets the root's original-text span.
    mutating func parseObjectDocument(_ text: UnsafeRawBufferPointer, base: Int, into root: Int32) -> Bool {
        bytes = text
        index = 0
        self.base = base
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
        let start = index
        guard object(root, depth: 0) else { return false }
        nodes[Int(root)].value = span(start..<index)
        skipSpace()
        return index == bytes.count
    }

    /// Parses `text` as one JSON value into a new node; returns it, or nil when malformed.
    mutating func parseValueDocument(_ text: UnsafeRawBufferPointer, base: Int) -> Int32? {
        bytes = text
        index = 0
        self.base = base
        skipSpace()
        let node = Int32(nodes.count)
        nodes.append(Event.Node(kind: .null))
        guard value(into: node, depth: 0) else { return nil }
        skipSpace()
        return index == bytes.count ? node : nil
    }

    @inline(__always) private func span(_ range: Range<Int>) -> Event.Span {
        Event.Span(start: Int32(base + range.lowerBound), count: Int32(range.count))
    }

    @inline(__always) private mutating func skipSpace() {
        while index < bytes.count {
            let b = bytes[index]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { index += 1 } else { return }
        }
    }

    private mutating func value(into node: Int32, depth: Int) -> Bool {
        guard depth < Self.maxDepth, index < bytes.count else { return false }
        let start = index
        switch bytes[index] {
        case UInt8(ascii: "{"):
            nodes[Int(node)].kind = .object
            guard object(node, depth: depth) else { return false }
            nodes[Int(node)].value = span(start..<index)
        case UInt8(ascii: "["):
            nodes[Int(node)].kind = .array
            guard array(node, depth: depth) else { return false }
            nodes[Int(node)].value = span(start..<index)
        case UInt8(ascii: "\""):
            guard let (content, escaped) = string() else { return false }
            nodes[Int(node)].kind = .string
            nodes[Int(node)].value = span(content)
            nodes[Int(node)].escaped = escaped
        case UInt8(ascii: "t"):
            guard literal("true") else { return false }
            nodes[Int(node)].kind = .bool
            nodes[Int(node)].value = span(start..<index)
        case UInt8(ascii: "f"):
            guard literal("false") else { return false }
            nodes[Int(node)].kind = .bool
            nodes[Int(node)].value = span(start..<index)
        case UInt8(ascii: "n"):
            guard literal("null") else { return false }
            nodes[Int(node)].kind = .null
            nodes[Int(node)].value = span(start..<index)
        default:
            guard number() else { return false }
            nodes[Int(node)].kind = .number
            nodes[Int(node)].value = span(start..<index)
        }
        return true
    }

    private mutating func appendChild(of parent: Int32) -> Int32 {
        let child = Int32(nodes.count)
        var node = Event.Node(kind: .null)
        node.parent = parent
        nodes.append(node)
        let last = nodes[Int(parent)].lastChild
        if last >= 0 { nodes[Int(last)].next = child } else { nodes[Int(parent)].firstChild = child }
        nodes[Int(parent)].lastChild = child
        return child
    }

    private mutating func object(_ node: Int32, depth: Int) -> Bool {
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return true }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let (key, keyEscaped) = string() else { return false }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
            index += 1
            skipSpace()
            let child = appendChild(of: node)
            nodes[Int(child)].key = span(key)
            nodes[Int(child)].keyEscaped = keyEscaped
            guard value(into: child, depth: depth + 1) else { return false }
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return true
            default: return false
            }
        }
    }

    private mutating func array(_ node: Int32, depth: Int) -> Bool {
        index += 1
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return true }
        while true {
            skipSpace()
            let child = appendChild(of: node)
            guard value(into: child, depth: depth + 1) else { return false }
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return true
            default: return false
            }
        }
    }

    /// A string at `index`: the range of its content (without quotes) and whether it has escapes.
    /// Control characters and malformed escapes fail; UTF-8 is checked so output stays valid.
    private mutating func string() -> (Range<Int>, Bool)? {
        index += 1
        let start = index
        let n = bytes.count
        var escaped = false
        while index < n {
            // Eight plain bytes at a time: most of a log line is ASCII without quotes or escapes.
            while index + 8 <= n, !Self.hasSpecialByte(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
            guard index < n else { break }
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let range = start..<index
                index += 1
                return (range, escaped)
            }
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
                let length = JSONBytes.utf8SequenceLength(bytes, at: index)
                guard length > 0 else { return nil }
                index += length
                continue
            }
            index += 1
        }
        return nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = word.utf8Start
        for j in 0..<count where bytes[index + j] != start[j] { return false }
        index += count
        return true
    }

    private mutating func number() -> Bool {
        let start = index
        @inline(__always) func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { return false }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { while digit(index) { index += 1 } }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(index) else { return false }
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { return false }
            while digit(index) { index += 1 }
        }
        return index > start
    }

    /// Whether any of the 8 bytes is `"`, `\\`, a control character or non-ASCII (SWAR: the
    /// classic "has zero byte" and "has byte less than" bit tricks).
    @inline(__always) static func hasSpecialByte(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & highs
        let hasBackslash = (backslash &- ones) & ~backslash & highs
        let hasControl = (word &- ones &* 0x20) & ~word & highs
        return (hasQuote | hasBackslash | hasControl | (word & highs)) != 0
    }
}
