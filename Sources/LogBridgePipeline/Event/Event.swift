import LogBridgeCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The kind of a value in an ``Event``.
public enum EventValueKind: UInt8, Sendable {
    case object, array, string, number, bool, null
}

/// One log record as the pipeline sees it: a JSON object kept as a tree of nodes over a single
/// byte arena, reused from record to record so processing allocates nothing in the steady state.
///
/// The tree is built only when a processor reads or writes a field; until then the event is the
/// record's bytes (`redact` scans those directly). String values stay in their escaped JSON form,
/// and a container nobody touched is written back by copying its original text, so a pipeline
/// that changes two fields does not re-serialise the rest. A record that is not a JSON object
/// reads as `{"message": "<the text>"}`, and goes out unchanged unless a processor changes it.
///
/// One `Event` belongs to one pipeline run on one thread.
public final class Event {
    struct Node {
        var kind: EventValueKind
        /// The string value contains backslash escapes.
        var escaped = false
        var keyEscaped = false
        /// A container whose children changed since parsing: write it from its children.
        var dirty = false
        var key = Span.empty
        /// Scalars: their text (strings: between the quotes). Containers: the original text.
        var value = Span.empty
        var parent: Int32 = -1
        var firstChild: Int32 = -1
        var lastChild: Int32 = -1
        var next: Int32 = -1
    }

    struct Span {
        var start: Int32
        var count: Int32
        static let empty = Span(start: 0, count: 0)
        var range: Range<Int> { Int(start)..<Int(start + count) }
    }

    var arena: [UInt8] = []
    var nodes: [Node] = []
    /// The record's bytes at the start of the arena.
    private(set) var rawCount = 0
    private(set) var hasTree = false
    /// A processor changed the tree: write it out instead of the record's bytes.
    private(set) var modified = false
    /// Parsing found no JSON object: the tree is `{"message": …}` around the text.
    private(set) var isPlainText = false
    private var scratch: [UInt8] = []

    /// The event time in nanoseconds since the Unix epoch (the record's timestamp until a `cri`
    /// or `timestamp` processor sets it); negative when unknown.
    public var timeNanos: Int64 = -1
    /// Set by `drop`/`filter`: the event goes to no sink.
    public var isDropped = false
    /// Sinks the event may go to, by index (`route`); all by default.
    public var routes: UInt64 = .max
    /// The first processing failure (also written to `pipeline_error`).
    public internal(set) var failure: String?
    /// The record's Kafka metadata (`%kafka.…` paths), copied in by ``loadMetadata(_:)``.
    private var kafka = KafkaMetadataCopy()
    private var metadataText: [UInt8] = []

    public init() {
        arena.reserveCapacity(4096)
        nodes.reserveCapacity(64)
    }

    /// Starts a new event from a record's bytes (copied once, into the reused arena).
    public func load(_ bytes: UnsafeRawBufferPointer, timeNanos: Int64) {
        arena.removeAll(keepingCapacity: true)
        arena.append(contentsOf: bytes)
        nodes.removeAll(keepingCapacity: true)
        rawCount = bytes.count
        hasTree = false
        modified = false
        isPlainText = false
        self.timeNanos = timeNanos
        isDropped = false
        routes = .max
        failure = nil
    }

    public convenience init(_ text: String, timeNanos: Int64 = -1) {
        self.init()
        var text = text
        text.withUTF8 { load(UnsafeRawBufferPointer($0), timeNanos: timeNanos) }
    }

    /// Sets the Kafka metadata `%kafka.…` paths read; after ``load(_:timeNanos:)``. Key and
    /// headers are copied into reused buffers (records seldom have either).
    public func loadMetadata(_ metadata: KafkaRecordMetadata) {
        kafka.topic = metadata.topic
        kafka.partition = metadata.partition
        kafka.offset = metadata.offset
        kafka.timestampMs = metadata.timestampMs
        kafka.hasKey = metadata.key != nil
        kafka.key.removeAll(keepingCapacity: true)
        if let key = metadata.key { kafka.key.append(contentsOf: key) }
        kafka.hasHeaders = metadata.headers != nil
        kafka.headers.removeAll(keepingCapacity: true)
        if let headers = metadata.headers { kafka.headers.append(contentsOf: headers) }
    }

    /// Calls `body` with the text of a metadata field, or nil when the record has none.
    func withMetadata<R>(_ field: KafkaMetadataField, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        var text = metadataText
        metadataText = []
        defer { metadataText = text }
        text.removeAll(keepingCapacity: true)
        let present = kafka.key.withUnsafeBytes { key in
            kafka.headers.withUnsafeBytes { headers in
                KafkaRecordMetadata(
                    topic: kafka.topic, partition: kafka.partition, offset: kafka.offset, timestampMs: kafka.timestampMs,
                    key: kafka.hasKey ? key : nil, headers: kafka.hasHeaders ? headers : nil
                ).append(field, to: &text)
            }
        }
        guard present else { return try body(nil) }
        return try text.withUnsafeBytes { try body($0) }
    }

    /// Whether `path` has a value: a field of the record, or metadata the record carries.
    public func has(_ path: FieldPath) -> Bool {
        if let field = path.metadata { return withMetadata(field) { $0 != nil } }
        return lookup(path) != nil
    }

    /// Appends the text at `path` (a field, see ``appendText(of:to:)``, or metadata); false when
    /// there is none.
    @discardableResult
    func appendText(at path: FieldPath, to out: inout [UInt8]) -> Bool {
        if let field = path.metadata {
            return withMetadata(field) { text in
                guard let text else { return false }
                out.append(contentsOf: text)
                return true
            }
        }
        guard let node = lookup(path) else { return false }
        appendText(of: node, to: &out)
        return true
    }

    /// The record's bytes as loaded (or as redacted in place, before any tree existed).
    public func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<rawCount])) }
    }

    /// Whether the record is a JSON object (parses it if needed).
    public var isJSONObject: Bool {
        ensureTree()
        return !isPlainText
    }

    /// Whether no tree was built yet (so raw-byte processing is still possible).
    var isRaw: Bool { !hasTree }

    /// Turns the event back into bytes (the tree written out, or the record as it was) and drops
    /// the tree; a later field access parses again. Lets a whole-event scan (`redact`) run once
    /// over the JSON text instead of once per value.
    func flattenToRaw() {
        guard hasTree else { return }
        if modified {
            scratch.removeAll(keepingCapacity: true)
            write(0, to: &scratch)
            arena.removeAll(keepingCapacity: true)
            arena.append(contentsOf: scratch)
            rawCount = scratch.count
        }
        nodes.removeAll(keepingCapacity: true)
        hasTree = false
        isPlainText = false
    }

    /// Replaces the record's bytes; only before the tree exists (raw redaction).
    func replaceRaw(with bytes: [UInt8]) {
        precondition(!hasTree, "raw bytes are replaced only before the tree is built")
        arena.removeAll(keepingCapacity: true)
        arena.append(contentsOf: bytes)
        rawCount = bytes.count
        modified = true
    }

    // MARK: - Building the tree

    /// Builds the tree from the record's bytes, once.
    func ensureTree() {
        guard !hasTree else { return }
        hasTree = true
        nodes.removeAll(keepingCapacity: true)
        nodes.append(Node(kind: .object))
        if !parseInto(root: 0, range: 0..<rawCount) {
            // Not a JSON object: one `message` field around the text.
            isPlainText = true
            nodes.removeAll(keepingCapacity: true)
            nodes.append(Node(kind: .object, dirty: true))
            let key = appendArena(Self.messageKey)
            let start = arena.count
            scratch.removeAll(keepingCapacity: true)
            arena.withUnsafeBytes { scratch.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<rawCount])) }
            scratch.withUnsafeBytes { JSONBytes.appendEscaped($0, to: &arena) }
            var message = Node(kind: .string, key: key, value: Span(start: Int32(start), count: Int32(arena.count - start)))
            message.escaped = true
            message.parent = 0
            nodes.append(message)
            nodes[0].firstChild = 1
            nodes[0].lastChild = 1
        }
    }

    /// Parses the object text at `range` of the arena into the children of `root` (an object
    /// node). Returns false, leaving the node table as it was, when the text is not one JSON
    /// object.
    private func parseInto(root: Int32, range: Range<Int>) -> Bool {
        let saved = nodes.count
        var builder = JSONTreeBuilder(nodes: nodes)
        nodes = []
        let ok = arena.withUnsafeBytes { bytes in
            builder.parseObjectDocument(UnsafeRawBufferPointer(rebasing: bytes[range]), base: range.lowerBound, into: root)
        }
        nodes = builder.nodes
        if !ok {
            nodes.removeSubrange(saved...)
            nodes[Int(root)].firstChild = -1
            nodes[Int(root)].lastChild = -1
        }
        return ok
    }

    // MARK: - Reading

    /// The node at `path`, building the tree if needed.
    func lookup(_ path: FieldPath) -> Int32? {
        ensureTree()
        var node: Int32 = 0
        for component in path.components {
            guard nodes[Int(node)].kind == .object, let child = child(of: node, named: component) else { return nil }
            node = child
        }
        return node
    }

    func child(of parent: Int32, named key: [UInt8]) -> Int32? {
        key.withUnsafeBytes { child(of: parent, named: $0) }
    }

    func child(of parent: Int32, named key: UnsafeRawBufferPointer) -> Int32? {
        var child = nodes[Int(parent)].firstChild
        while child >= 0 {
            if keyEquals(child, key) { return child }
            child = nodes[Int(child)].next
        }
        return nil
    }

    private func keyEquals(_ node: Int32, _ key: UnsafeRawBufferPointer) -> Bool {
        let n = nodes[Int(node)]
        if !n.keyEscaped {
            guard Int(n.key.count) == key.count else { return false }
            return key.count == 0 || arena.withUnsafeBytes { bytes in
                memcmp(bytes.baseAddress! + Int(n.key.start), key.baseAddress!, key.count) == 0
            }
        }
        scratch.removeAll(keepingCapacity: true)
        arena.withUnsafeBytes { ParserBytes.appendUnescaped(UnsafeRawBufferPointer(rebasing: $0[n.key.range]), into: &scratch) }
        return scratch.elementsEqual(key)
    }

    public func kind(at path: FieldPath) -> EventValueKind? {
        lookup(path).map { nodes[Int($0)].kind }
    }

    func kind(of node: Int32) -> EventValueKind { nodes[Int(node)].kind }

    /// Appends the value of `node` as text: strings unescaped, numbers/booleans/null as written,
    /// containers as JSON.
    func appendText(of node: Int32, to out: inout [UInt8]) {
        let n = nodes[Int(node)]
        switch n.kind {
        case .string:
            arena.withUnsafeBytes { bytes in
                let content = UnsafeRawBufferPointer(rebasing: bytes[n.value.range])
                if n.escaped { ParserBytes.appendUnescaped(content, into: &out) } else { out.append(contentsOf: content) }
            }
        case .number, .bool, .null:
            arena.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[n.value.range])) }
        case .object, .array:
            write(node, to: &out)
        }
    }

    /// Calls `body` with the text of the value at `path` (see ``appendText(of:to:)``), or nil.
    public func withText<R>(at path: FieldPath, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        if let field = path.metadata { return try withMetadata(field, body) }
        guard let node = lookup(path) else { return try body(nil) }
        return try withText(of: node, body)
    }

    func withText<R>(of node: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = nodes[Int(node)]
        switch n.kind {
        case .number, .bool, .null:
            return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[n.value.range])) }
        case .string where !n.escaped:
            return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[n.value.range])) }
        default:
            var text: [UInt8] = []
            appendText(of: node, to: &text)
            return try text.withUnsafeBytes { try body($0) }
        }
    }

    /// The value at `path` as a string (tests, the dry run); nil when missing.
    public func string(at path: FieldPath) -> String? {
        withText(at: path) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    // MARK: - Writing

    /// A value to store in a field.
    public enum Value {
        /// Unescaped UTF-8 text.
        case string(UnsafeRawBufferPointer)
        /// JSON number text, as written.
        case number(UnsafeRawBufferPointer)
        case bool(Bool)
        case null
    }

    /// Sets the field at `path`, creating objects on the way (replacing non-objects in the way).
    public func set(_ path: FieldPath, _ value: Value) {
        let node = makeField(path)
        store(value, in: node)
    }

    func store(_ value: Value, in node: Int32) {
        clearChildren(node)
        var n = nodes[Int(node)]
        switch value {
        case .string(let text):
            let start = arena.count
            JSONBytes.appendEscaped(text, to: &arena)
            n.kind = .string
            n.value = Span(start: Int32(start), count: Int32(arena.count - start))
            n.escaped = n.value.count != Int32(text.count)
        case .number(let text):
            n.kind = .number
            n.value = appendArena(text)
        case .bool(let flag):
            n.kind = .bool
            n.value = appendArena(flag ? Self.trueText : Self.falseText)
        case .null:
            n.kind = .null
            n.value = appendArena(Self.nullText)
        }
        nodes[Int(node)] = n
        markModified(node)
    }

    /// Replaces the key of `node` with an already escaped key (redaction output).
    func storeEscapedKey(_ escaped: UnsafeRawBufferPointer, of node: Int32) {
        nodes[Int(node)].key = appendArena(escaped)
        nodes[Int(node)].keyEscaped = escaped.contains(UInt8(ascii: "\\"))
        let parent = nodes[Int(node)].parent
        if parent >= 0 { markModified(parent) }
    }

    /// Stores an already escaped string body (redaction output) in `node`.
    func storeEscapedString(_ escaped: UnsafeRawBufferPointer, in node: Int32) {
        clearChildren(node)
        let span = appendArena(escaped)
        nodes[Int(node)].kind = .string
        nodes[Int(node)].value = span
        nodes[Int(node)].escaped = escaped.contains(UInt8(ascii: "\\"))
        markModified(node)
    }

    /// Parses `json` (one JSON value) into the field at `path`, or, for the root path, merges an
    /// object's members into the root. Returns false (and changes nothing) when `json` is not
    /// valid JSON, or not an object for a merge.
    public func setJSON(_ path: FieldPath, json: UnsafeRawBufferPointer) -> Bool {
        ensureTree()
        let start = arena.count
        arena.append(contentsOf: json)
        let range = start..<arena.count
        if path.isRoot {
            let holder = Int32(nodes.count)
            nodes.append(Node(kind: .object))
            guard parseInto(root: holder, range: range) else {
                nodes.removeLast()
                arena.removeSubrange(start...)
                return false
            }
            // Move the members into the root, replacing same-named fields.
            var member = nodes[Int(holder)].firstChild
            while member >= 0 {
                let following = nodes[Int(member)].next
                var key: [UInt8] = []
                appendKey(of: member, to: &key)
                if let existing = child(of: 0, named: key) { unlink(existing) }
                link(member, under: 0)
                member = following
            }
            nodes[Int(holder)].firstChild = -1
            markModified(0)
            return true
        }
        var builder = JSONTreeBuilder(nodes: nodes)
        nodes = []
        let parsed: Int32? = arena.withUnsafeBytes { bytes in
            builder.parseValueDocument(UnsafeRawBufferPointer(rebasing: bytes[range]), base: start)
        }
        nodes = builder.nodes
        guard let parsed else {
            arena.removeSubrange(start...)
            return false
        }
        let target = makeField(path)
        // Graft: the target takes the parsed node's content and children.
        clearChildren(target)
        let source = nodes[Int(parsed)]
        nodes[Int(target)].kind = source.kind
        nodes[Int(target)].value = source.value
        nodes[Int(target)].escaped = source.escaped
        nodes[Int(target)].dirty = false
        nodes[Int(target)].firstChild = source.firstChild
        nodes[Int(target)].lastChild = source.lastChild
        var child = source.firstChild
        while child >= 0 {
            nodes[Int(child)].parent = target
            child = nodes[Int(child)].next
        }
        markModified(target, includingSelf: false)
        return true
    }

    /// Removes the field at `path`; false when it was not there.
    @discardableResult
    public func remove(_ path: FieldPath) -> Bool {
        guard !path.isRoot, let node = lookup(path) else { return false }
        unlink(node)
        return true
    }

    /// Moves the field at `from` to `to` (replacing what was there).
    @discardableResult
    public func rename(_ from: FieldPath, to: FieldPath) -> Bool {
        guard !from.isRoot, !to.isRoot, let node = lookup(from) else { return false }
        unlink(node)
        // The destination's parent chain must not run through the moved node; after unlinking it
        // cannot, since lookups only see linked nodes.
        let parent = makeObject(to.components.dropLast())
        let last = to.components[to.components.count - 1]
        if let existing = child(of: parent, named: last) { unlink(existing) }
        last.withUnsafeBytes { setKey(of: node, to: $0) }
        link(node, under: parent)
        markModified(parent)
        return true
    }

    /// Keeps only the fields at `paths` (and the objects leading to them).
    public func keepOnly(_ paths: [FieldPath]) {
        ensureTree()
        var keep = Set<Int32>([0])
        for path in paths {
            guard var node = lookup(path) else { continue }
            // The kept node's whole subtree stays; mark it and its ancestors.
            keep.insert(node)
            markSubtree(node, into: &keep)
            while node > 0 { node = nodes[Int(node)].parent; keep.insert(node) }
        }
        prune(0, keeping: keep)
    }

    private func markSubtree(_ node: Int32, into keep: inout Set<Int32>) {
        var child = nodes[Int(node)].firstChild
        while child >= 0 {
            keep.insert(child)
            markSubtree(child, into: &keep)
            child = nodes[Int(child)].next
        }
    }

    private func prune(_ node: Int32, keeping keep: Set<Int32>) {
        var child = nodes[Int(node)].firstChild
        while child >= 0 {
            let following = nodes[Int(child)].next
            if !keep.contains(child) {
                unlink(child)
            } else if nodes[Int(child)].kind == .object {
                prune(child, keeping: keep)
            }
            child = following
        }
    }

    // MARK: - Tree plumbing

    /// The node for `path`, created (as null) if missing, with objects created on the way.
    func makeField(_ path: FieldPath) -> Int32 {
        ensureTree()
        guard !path.isRoot else { return 0 }
        let parent = makeObject(path.components.dropLast())
        return path.components[path.components.count - 1].withUnsafeBytes { makeChild(of: parent, key: $0) }
    }

    /// The object at `path`, created (or turned into an object) as needed.
    func makeObject(_ path: FieldPath) -> Int32 {
        ensureTree()
        return makeObject(path.components[...])
    }

    /// The member `key` of the object `parent`, created (as null) if missing.
    func makeChild(of parent: Int32, key: UnsafeRawBufferPointer) -> Int32 {
        if let existing = child(of: parent, named: key) { return existing }
        let node = Int32(nodes.count)
        var fresh = Node(kind: .null)
        fresh.value = appendArena(Self.nullText)
        nodes.append(fresh)
        setKey(of: node, to: key)
        link(node, under: parent)
        markModified(parent)
        return node
    }

    /// The object at `components`, created (or turned into an object) as needed.
    private func makeObject(_ components: ArraySlice<[UInt8]>) -> Int32 {
        var node: Int32 = 0
        for component in components {
            if let existing = child(of: node, named: component) {
                if nodes[Int(existing)].kind != .object {
                    clearChildren(existing)
                    nodes[Int(existing)].kind = .object
                    markModified(existing)
                }
                node = existing
            } else {
                let fresh = Int32(nodes.count)
                nodes.append(Node(kind: .object, dirty: true))
                component.withUnsafeBytes { setKey(of: fresh, to: $0) }
                link(fresh, under: node)
                markModified(node)
                node = fresh
            }
        }
        return node
    }

    private func setKey(of node: Int32, to key: UnsafeRawBufferPointer) {
        let start = arena.count
        JSONBytes.appendEscaped(key, to: &arena)
        nodes[Int(node)].key = Span(start: Int32(start), count: Int32(arena.count - start))
        // Escaping changes the length whenever there is anything to escape.
        nodes[Int(node)].keyEscaped = arena.count - start != key.count
    }

    func appendKey(of node: Int32, to out: inout [UInt8]) {
        let n = nodes[Int(node)]
        arena.withUnsafeBytes { bytes in
            let key = UnsafeRawBufferPointer(rebasing: bytes[n.key.range])
            if n.keyEscaped { ParserBytes.appendUnescaped(key, into: &out) } else { out.append(contentsOf: key) }
        }
    }

    private func link(_ node: Int32, under parent: Int32) {
        nodes[Int(node)].parent = parent
        nodes[Int(node)].next = -1
        let last = nodes[Int(parent)].lastChild
        if last >= 0 { nodes[Int(last)].next = node } else { nodes[Int(parent)].firstChild = node }
        nodes[Int(parent)].lastChild = node
    }

    func unlink(_ node: Int32) {
        let parent = nodes[Int(node)].parent
        guard parent >= 0 else { return }
        var previous: Int32 = -1
        var current = nodes[Int(parent)].firstChild
        while current >= 0, current != node {
            previous = current
            current = nodes[Int(current)].next
        }
        guard current == node else { return }
        let following = nodes[Int(node)].next
        if previous >= 0 { nodes[Int(previous)].next = following } else { nodes[Int(parent)].firstChild = following }
        if nodes[Int(parent)].lastChild == node { nodes[Int(parent)].lastChild = previous }
        nodes[Int(node)].parent = -1
        nodes[Int(node)].next = -1
        markModified(parent)
    }

    private func clearChildren(_ node: Int32) {
        nodes[Int(node)].firstChild = -1
        nodes[Int(node)].lastChild = -1
    }

    /// Marks `node` (if a container) and its ancestors for writing from their children.
    private func markModified(_ node: Int32, includingSelf: Bool = true) {
        modified = true
        var current = includingSelf ? node : nodes[Int(node)].parent
        while current >= 0 {
            if nodes[Int(current)].dirty && current != node { break }
            nodes[Int(current)].dirty = true
            current = nodes[Int(current)].parent
        }
    }

    private func appendArena(_ bytes: UnsafeRawBufferPointer) -> Span {
        let start = arena.count
        arena.append(contentsOf: bytes)
        return Span(start: Int32(start), count: Int32(bytes.count))
    }

    private func appendArena(_ bytes: [UInt8]) -> Span {
        bytes.withUnsafeBytes { appendArena($0) }
    }

    // MARK: - Output

    /// Appends the event as it leaves the pipeline: the record's bytes when nothing changed,
    /// otherwise the tree as compact JSON.
    public func write(to out: inout [UInt8]) {
        if !modified || !hasTree {
            arena.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<rawCount])) }
            return
        }
        write(0, to: &out)
    }

    /// The event as text (tests, the dry run).
    public var text: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(_ node: Int32, to out: inout [UInt8]) {
        let n = nodes[Int(node)]
        switch n.kind {
        case .object, .array:
            if !n.dirty {
                arena.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[n.value.range])) }
                return
            }
            let isObject = n.kind == .object
            out.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
            var child = n.firstChild
            var first = true
            while child >= 0 {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if isObject {
                    let key = nodes[Int(child)].key
                    out.append(UInt8(ascii: "\""))
                    arena.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[key.range])) }
                    out.append(contentsOf: Self.keyEnd)
                }
                write(child, to: &out)
                child = nodes[Int(child)].next
            }
            out.append(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        case .string:
            out.append(UInt8(ascii: "\""))
            arena.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[n.value.range])) }
            out.append(UInt8(ascii: "\""))
        case .number, .bool, .null:
            arena.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[n.value.range])) }
        }
    }

    /// A string or number value, or an object key, found by ``collectScalars(under:into:)``.
    struct Scalar {
        enum Role { case string, number, key }
        var node: Int32
        var role: Role
        var range: Range<Int>
    }

    /// Appends every string and number under `node`, and every key below it (keys made from data,
    /// such as logfmt's bare words, can hold personal data too), depth first, without recursion
    /// or closures.
    func collectScalars(under node: Int32, into out: inout [Scalar]) {
        nodes.withUnsafeBufferPointer { nodes in
            var current = node
            while true {
                let n = nodes[Int(current)]
                if n.kind == .string || n.kind == .number {
                    out.append(Scalar(node: current, role: n.kind == .string ? .string : .number, range: n.value.range))
                }
                if current != node, n.key.count > 0, n.parent >= 0, nodes[Int(n.parent)].kind == .object {
                    out.append(Scalar(node: current, role: .key, range: n.key.range))
                }
                // Down into children, else along to the next sibling, else back up.
                if (n.kind == .object || n.kind == .array), n.firstChild >= 0 {
                    current = n.firstChild
                    continue
                }
                while current != node {
                    let next = nodes[Int(current)].next
                    if next >= 0 {
                        current = next
                        break
                    }
                    current = nodes[Int(current)].parent
                }
                if current == node { return }
            }
        }
    }


    static let messageKey = Array("message".utf8)
    static let trueText = Array("true".utf8)
    static let falseText = Array("false".utf8)
    static let nullText = Array("null".utf8)
    static let keyEnd = Array("\":".utf8)
}

/// An event's copy of its record's Kafka metadata (the batch's bytes are not kept).
struct KafkaMetadataCopy {
    var topic = ""
    var partition: Int32 = 0
    var offset: Int64 = 0
    var timestampMs: Int64 = -1
    var hasKey = false
    var key: [UInt8] = []
    var hasHeaders = false
    var headers: [UInt8] = []
}
