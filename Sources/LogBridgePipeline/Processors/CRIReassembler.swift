import LogBridgeCore

/// `cri`: parses CRI log lines (`<time> <stream> <P|F> <message>`, as containerd and CRI-O write
/// them) and joins partial lines: `P` fragments are held until the `F` line of the same stream
/// and container, then leave as one event carrying the whole message (the job the seed Fluent
/// Bit setup did with a Lua script).
public struct CRIOptions: Sendable, Equatable {
    /// The field holding the CRI line (records that are not JSON: the whole text).
    public var field: FieldPath
    /// Where the joined message goes; nil: back into `field` (`message` for text records).
    public var target: FieldPath?
    /// Receives `stdout`/`stderr`; nil: not written.
    public var streamField: FieldPath?
    /// Set when the line was already split by Fluent Bit's `cri` parser: the `P`/`F` tag is read
    /// from this field (e.g. `logtag`) and `field` holds just the message.
    public var tagField: FieldPath?
    /// Fields that, with the stream, tell one container's output from another's.
    public var keyFields: [FieldPath]
    /// A message longer than this is sent in pieces marked `cri_partial: true`, so one runaway
    /// container cannot hold unbounded memory.
    public var maxBytes: Int
    /// A `P` fragment whose `F` has not arrived after this long is sent as it is (marked).
    public var flushTimeout: Duration
    /// Use the CRI time as the event time.
    public var setTime: Bool

    public init(
        field: FieldPath, target: FieldPath? = nil, streamField: FieldPath? = nil, tagField: FieldPath? = nil,
        keyFields: [FieldPath] = [], maxBytes: Int = 1 << 20, flushTimeout: Duration = .seconds(5), setTime: Bool = true
    ) {
        self.field = field
        self.target = target
        self.streamField = streamField
        self.tagField = tagField
        self.keyFields = keyFields
        self.maxBytes = maxBytes
        self.flushTimeout = flushTimeout
        self.setTime = setTime
    }

    public static let defaultKeyFields = ["kubernetes.namespace_name", "kubernetes.pod_name", "kubernetes.container_name"]
}

/// The first pass over a window of records: finds CRI lines, joins fragments, and says which
/// events leave and which records must wait for the rest of their line.
///
/// The joiner keeps nothing between windows. When fragments at the end of a window are still
/// waiting for their `F`, the window is cut before the first of them: the records from there on
/// are read again with the next window. So the spool cursor never moves past a fragment that has
/// not been delivered, and a crash cannot lose half a line or send it twice.
struct CRIReassembler {
    /// One event to build in the second pass.
    struct Emitted {
        var recordIndex: Int
        var isCRI: Bool
        /// The message, escaped as in a JSON string, in ``messages``.
        var message: Range<Int> = 0..<0
        var stream: Range<Int> = 0..<0
        var timeNanos: Int64 = -1
        var partial = false
        /// For a line joined from fragments: the sequence of the record holding its first one.
        var firstFragment: UInt64?
    }

    private struct Group {
        var firstSequence: UInt64
        var lastIndex: Int
        /// The joined message so far, escaped as in a JSON string.
        var message: [UInt8] = []
        /// The end of the last text fragment when it stops inside a UTF-8 character, not yet
        /// escaped. The runtime splits long lines at a byte count, so a character can straddle
        /// two fragments; escaping each half alone turned it into U+FFFD replacement characters
        /// (found by fuzzing, Fuzz/Corpus/cri/utf8-split-across-fragments).
        var pendingUTF8: [UInt8] = []
        var stream: [UInt8]
        var timeNanos: Int64

        /// Appends a text fragment, escaped, holding back an unfinished character at its end.
        mutating func appendText(_ fragment: UnsafeRawBufferPointer) {
            guard pendingUTF8.isEmpty else {
                var joined = pendingUTF8
                pendingUTF8.removeAll()
                joined.append(contentsOf: fragment)
                joined.withUnsafeBytes { appendText($0) }
                return
            }
            let complete = fragment.count - Self.unfinishedCharacterLength(fragment)
            JSONBytes.appendEscaped(UnsafeRawBufferPointer(rebasing: fragment[..<complete]), to: &message)
            pendingUTF8.append(contentsOf: fragment[complete...])
        }

        /// Appends a fragment that is already escaped JSON string content.
        mutating func appendEscaped(_ fragment: UnsafeRawBufferPointer) {
            finishText()
            message.append(contentsOf: fragment)
        }

        /// Escapes what is held back (the line ends here, or is sent in pieces).
        mutating func finishText() {
            guard !pendingUTF8.isEmpty else { return }
            pendingUTF8.withUnsafeBytes { _ = JSONBytes.appendEscaped($0, to: &message) }
            pendingUTF8.removeAll()
        }

        /// How many bytes at the end of `bytes` begin a UTF-8 sequence they do not complete (0...3).
        static func unfinishedCharacterLength(_ bytes: UnsafeRawBufferPointer) -> Int {
            let n = bytes.count
            var k = 1
            while k <= min(3, n) {
                let b = bytes[n - k]
                if b & 0xC0 != 0x80 {
                    let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                    return length > k ? k : 0
                }
                k += 1
            }
            return 0
        }
    }

    let options: CRIOptions
    // Paths as UTF-8 keys, looked up in every record without converting them each time.
    private let fieldPath: [[UInt8]]
    private let tagPath: [[UInt8]]?
    private let keyPaths: [[[UInt8]]]
    private let streamPath: [[UInt8]]?
    /// Message and stream bytes of the emitted events.
    private(set) var messages: [UInt8] = []
    private var groups: [ByteKey: Group] = [:]
    private var key: [UInt8] = []

    init(_ options: CRIOptions) {
        self.options = options
        fieldPath = options.field.components
        tagPath = options.tagField?.components
        keyPaths = options.keyFields.map(\.components)
        streamPath = options.streamField?.components
    }

    /// Joins the fragments in `batch`. Returns the events in record order and the sequence the
    /// cursor may move to (the first waiting fragment, or the batch's end).
    mutating func run(_ batch: RecordBatch, flush: Bool) -> (events: [Emitted], cut: UInt64) {
        messages.removeAll(keepingCapacity: true)
        groups.removeAll(keepingCapacity: true)
        var events: [Emitted] = []
        events.reserveCapacity(batch.count)
        batch.bytes.withUnsafeBytes { bytes in
            for (index, record) in batch.records.enumerated() {
                let value = UnsafeRawBufferPointer(rebasing: bytes[record.value])
                if let event = line(index, record, value) { events.append(event) }
            }
        }
        var cut = batch.nextSequence
        if !groups.isEmpty {
            if flush {
                for group in groups.values { events.append(emitPartial(group)) }
                events.sort { $0.recordIndex < $1.recordIndex }
            } else {
                cut = groups.values.map(\.firstSequence).min()!
                // A line joined in this window may have begun before the cut: the cut moves back
                // to its first fragment, or the next window would read the line's end without its
                // beginning and the fragments before the cut would be lost (found by fuzzing,
                // Fuzz/Corpus/cri/line-joined-across-the-cut). Moving back can expose another
                // such line, hence the loop.
                var moved = true
                while moved {
                    moved = false
                    for event in events {
                        if let first = event.firstFragment, first < cut, batch.records[event.recordIndex].sequence >= cut {
                            cut = first
                            moved = true
                        }
                    }
                }
                events.removeAll { batch.records[$0.recordIndex].sequence >= cut }
            }
        }
        return (events, cut)
    }

    private mutating func line(_ index: Int, _ record: RecordBatch.Record, _ value: UnsafeRawBufferPointer) -> Emitted? {
        // JSON only when the event will read it as JSON too: a record that starts like an object
        // but does not parse is text to the event (`{"message": …}`), and reading fields from it
        // leniently put unchecked bytes (raw control or invalid UTF-8 bytes) into a string the
        // event writes as already escaped, so the event left as invalid JSON with its other
        // fields gone (found by fuzzing, Fuzz/Corpus/cri/record-that-is-not-json). One validation
        // per record; the event parses the record anyway once a line is applied to it.
        let isJSON = Self.startsObject(value) && JSONBytes.isValid(value)
        let text: UnsafeRawBufferPointer
        if isJSON {
            guard let found = JSONBytes.lookup(keys: fieldPath, in: value) else { return Emitted(recordIndex: index, isCRI: false) }
            text = found
        } else {
            text = value
        }
        // The tag and message: from the CRI line itself, or from fields Fluent Bit already split.
        var isPartial: Bool
        var message: UnsafeRawBufferPointer
        var stream = UnsafeRawBufferPointer(start: nil, count: 0)
        var timeNanos: Int64 = -1
        if let tagPath, isJSON {
            guard let tag = JSONBytes.lookup(keys: tagPath, in: value), tag.count == 1 else { return Emitted(recordIndex: index, isCRI: false) }
            isPartial = tag[0] == UInt8(ascii: "P")
            message = text
            if let streamPath, let found = JSONBytes.lookup(keys: streamPath, in: value) { stream = found }
        } else {
            guard let cri = CRILine.parse(text) else { return Emitted(recordIndex: index, isCRI: false) }
            isPartial = cri.isPartial
            message = UnsafeRawBufferPointer(rebasing: text[cri.message])
            stream = UnsafeRawBufferPointer(rebasing: text[cri.stream])
            if options.setTime { timeNanos = TimestampParser.parseISO8601(UnsafeRawBufferPointer(rebasing: text[cri.time])) ?? -1 }
        }
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: stream)
        if isJSON {
            for path in keyPaths {
                key.append(0xFF)
                if let found = JSONBytes.lookup(keys: path, in: value) { key.append(contentsOf: found) }
            }
        }
        if groups[ByteKey(key)] == nil, !isPartial {
            // A whole line: the common case.
            return emit(index, message: message, escaped: isJSON, stream: stream, timeNanos: timeNanos, partial: false)
        }
        var group = groups.removeValue(forKey: ByteKey(key))
            ?? Group(firstSequence: record.sequence, lastIndex: index, stream: Array(stream), timeNanos: timeNanos)
        group.lastIndex = index
        if isJSON { group.appendEscaped(message) } else { group.appendText(message) }
        if !isPartial {
            group.finishText()
            var joined = emit(index, message: group.message, stream: group.stream, timeNanos: group.timeNanos, partial: false)
            joined.firstFragment = group.firstSequence
            return joined
        }
        if group.message.count >= options.maxBytes {
            // Too long to hold: send what there is now, marked, and start over.
            return emitPartial(group)
        }
        groups[ByteKey(key)] = group
        return nil
    }

    private mutating func emit(
        _ index: Int, message: UnsafeRawBufferPointer, escaped: Bool, stream: UnsafeRawBufferPointer, timeNanos: Int64, partial: Bool
    ) -> Emitted {
        let start = messages.count
        if escaped { messages.append(contentsOf: message) } else { JSONBytes.appendEscaped(message, to: &messages) }
        let streamStart = messages.count
        messages.append(contentsOf: stream)
        return Emitted(
            recordIndex: index, isCRI: true, message: start..<streamStart, stream: streamStart..<messages.count, timeNanos: timeNanos,
            partial: partial)
    }

    private mutating func emit(_ index: Int, message: [UInt8], stream: [UInt8], timeNanos: Int64, partial: Bool) -> Emitted {
        message.withUnsafeBytes { m in
            stream.withUnsafeBytes { s in emit(index, message: m, escaped: true, stream: s, timeNanos: timeNanos, partial: partial) }
        }
    }

    private mutating func emitPartial(_ group: Group) -> Emitted {
        var group = group
        group.finishText()
        var piece = emit(group.lastIndex, message: group.message, stream: group.stream, timeNanos: group.timeNanos, partial: true)
        piece.firstFragment = group.firstSequence
        return piece
    }

    /// Second pass: writes the joined message, stream and time into the loaded event.
    func apply(_ emitted: Emitted, to event: Event) {
        guard emitted.isCRI else { return }
        let target = options.target ?? (event.isJSONObject ? options.field : Self.messagePath)
        messages.withUnsafeBytes { bytes in
            let node = event.makeField(target)
            event.storeEscapedString(UnsafeRawBufferPointer(rebasing: bytes[emitted.message]), in: node)
            if let streamField = options.streamField, !emitted.stream.isEmpty {
                event.set(streamField, .string(UnsafeRawBufferPointer(rebasing: bytes[emitted.stream])))
            }
        }
        if emitted.partial { event.set(Self.partialPath, .bool(true)) }
        if emitted.timeNanos >= 0 { event.timeNanos = emitted.timeNanos }
    }

    static let messagePath = try! FieldPath("message")
    static let partialPath = try! FieldPath("cri_partial")

    private static func startsObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for b in bytes {
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { continue }
            return b == UInt8(ascii: "{")
        }
        return false
    }
}
