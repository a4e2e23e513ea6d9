import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The two JSON readers against each other and against their promises:
/// - `JSONBytes.isValid` (the core's validator: sinks embed a record as is when it says yes);
/// - the pipeline's tree builder (`Event`, which every processor reads fields through).
/// The tree builder must accept exactly the valid objects (up to its depth limit), a changed tree
/// must write out valid JSON, `setJSON` must refuse what the validator refuses, and escaping any
/// bytes must give a valid JSON string that reads back as the same text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let valid = JSONBytes.isValid(bytes)

    // Field lookup without parsing (sinks' index names, labels, the cri processor's fields).
    _ = JSONBytes.lookup(["log"], in: bytes)
    _ = JSONBytes.lookup(["kubernetes", "pod_name"], in: bytes)
    let hasLog = JSONBytes.hasTopLevelKey("log", in: bytes)

    // The one-pass reader the Elasticsearch builder uses must agree with the validator and with
    // lookup: valid objects only, and each noted member is the one lookup finds.
    var found: [Range<Int>?] = [nil, nil]
    let validObject = JSONBytes.isValidObject(bytes, noting: onePassKeys, into: &found)
    require(validObject == (valid && startsObject(bytes)), "isValidObject and isValid disagree on \(show(bytes))")
    if validObject {
        for (slot, key) in onePassKeys.enumerated() {
            let member = found[slot].map { JSONBytes.unquoted(UnsafeRawBufferPointer(rebasing: bytes[$0])) }
            let looked = JSONBytes.lookup(keys: [key], in: bytes)
            require(member.map(Array.init) == looked.map(Array.init), "isValidObject and lookup disagree on \(show(key)) in \(show(bytes))")
        }
    }

    // The event-time resolver skips fields whose quoted name is nowhere in the record: that must
    // never skip a member the full scan finds, and resolving must not trap on any bytes.
    var timeFound: [Range<Int>?] = Array(repeating: nil, count: timeKeys.count)
    _ = JSONBytes.noteTopLevelMembers(bytes, keys: timeKeys, into: &timeFound, stopAt: nil)
    for (slot, key) in timeKeys.enumerated() where timeFound[slot] != nil {
        require(JSONBytes.containsQuoted(key, in: bytes), "containsQuoted misses member \(show(key)) in \(show(bytes))")
    }
    var resolver = EventTimeFields.default.makeResolver()
    if let (nanos, slot) = resolver.resolveField(bytes) {
        let raw = timeFound[slot].map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
        require(raw.flatMap(EventTimeResolver.parse) == nanos, "the event time is not the value of its field in \(show(bytes))")
    }

    // The tree builder reads the record as the pipeline does.
    let event = Event()
    event.load(bytes, timeNanos: -1)
    let isObject = event.isJSONObject
    if isObject {
        require(valid, "the tree builder accepted an object the validator refuses: \(show(bytes))")
    } else if valid, startsObject(bytes), nesting(bytes) < 200 {
        require(false, "the tree builder refused a valid object: \(show(bytes))")
    }
    if isObject, valid, !bytes.contains(UInt8(ascii: "\\")) {
        // Keys without escapes: the scanner and the tree find the same first `log` member.
        require(hasLog == (event.kind(at: logPath) != nil), "lookup and tree disagree on 'log' in \(show(bytes))")
    }

    // A changed tree is written out from its nodes: it must still be JSON.
    let marker: [UInt8] = Array("fuzz\u{1}\"\\\u{7f}\u{e9}".utf8) + [0xFF]
    marker.withUnsafeBytes { event.set(fuzzPath, .string($0)) }
    var out: [UInt8] = []
    event.write(to: &out)
    require(JSONBytes.isValid(out), "a changed event wrote invalid JSON: \(show(out)) from \(show(bytes))")

    // The `json` processor's parse: into a field, and merged into the root.
    let target = Event()
    target.load(UnsafeRawBufferPointer(start: nil, count: 0), timeNanos: -1)
    if target.setJSON(fuzzPath, json: bytes) {
        require(valid, "setJSON accepted what the validator refuses: \(show(bytes))")
        out.removeAll()
        target.write(to: &out)
        require(JSONBytes.isValid(out), "setJSON wrote invalid JSON: \(show(out)) from \(show(bytes))")
    } else if valid, nesting(bytes) < 200 {
        require(false, "setJSON refused valid JSON: \(show(bytes))")
    }
    if event.setJSON(.root, json: bytes) {
        require(valid && startsObject(bytes), "a root merge accepted \(show(bytes))")
        out.removeAll()
        event.write(to: &out)
        require(JSONBytes.isValid(out), "a root merge wrote invalid JSON: \(show(out)) from \(show(bytes))")
    }

    // Escaping any bytes gives a JSON string; reading it back gives the text (invalid UTF-8 as U+FFFD).
    var quoted: [UInt8] = Array(#"{"s":"#.utf8)
    JSONBytes.appendString(bytes, to: &quoted)
    quoted.append(UInt8(ascii: "}"))
    require(JSONBytes.isValid(quoted), "appendString gave invalid JSON for \(show(bytes))")
    if let text = stringField(quoted, sPath), String(validating: bytes, as: UTF8.self) != nil {
        require(text.elementsEqual(bytes), "escaped text reads back as \(show(text)) instead of \(show(bytes))")
    } else if String(validating: bytes, as: UTF8.self) != nil {
        require(false, "escaped text does not read back: \(show(quoted))")
    }
    return 0
}

private let onePassKeys: [[UInt8]] = [Array("log".utf8), Array("kubernetes".utf8)]
private let logPath = path("log")
private let fuzzPath = path("fuzz.value")
private let sPath = path("s")

private func startsObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D } == UInt8(ascii: "{")
}

/// The deepest container nesting of a (valid) document, counting brackets outside strings.
private func nesting(_ bytes: UnsafeRawBufferPointer) -> Int {
    var depth = 0
    var deepest = 0
    var inString = false
    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        if inString {
            if b == UInt8(ascii: "\\") { i += 1 } else if b == UInt8(ascii: "\"") { inString = false }
        } else if b == UInt8(ascii: "\"") {
            inString = true
        } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
            depth += 1
            deepest = max(deepest, depth)
        } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
            depth -= 1
        }
        i += 1
    }
    return deepest
}

/// `source.event_time_fields`' default names, as the resolver looks them up.
private let timeKeys = EventTimeFields.defaultNames.map { Array($0.utf8) }
