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
        let start = index + 1
        guard let (end, escaped) = JSONBytes.scanString(bytes, from: start) else { return nil }
        index = end + 1
        return (start..<end, escaped)
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
        guard let end = JSONBytes.scanNumber(bytes, from: index) else { return false }
        index = end
        return true
    }
}
