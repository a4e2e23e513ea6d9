import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The `cri` processor (partial-line reassembly) in a real `SinkPipeline`, one record per input
/// line. The first byte picks the record shape and options, the second which pod each line of a
/// Fluent Bit record comes from (so containers interleave).
///
/// Properties:
/// - the pipeline's general promises (``runChecked``);
/// - cutting a window where a line is still waiting, then reading again from the cut (what the
///   sink runner does), delivers exactly what one flushed pass over the whole window delivers:
///   no fragment lost, none sent twice;
/// - for plain CRI lines, each event carries the concatenated message of its fragments, in order,
///   per stream (a small model of the joiner).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCRI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let pods = input.byte()
    let shape = Shape(rawValue: mode & 3)!
    let options = CRIOptions(
        field: shape == .split ? path("message") : path("log"),
        target: mode & 32 != 0 ? path("joined") : nil,
        streamField: mode & 16 != 0 ? path("stream") : nil,
        tagField: shape == .split ? path("logtag") : nil,
        keyFields: shape == .text ? [] : CRIOptions.defaultKeyFields.map(path),
        maxBytes: mode & 4 != 0 ? 24 : 1 << 20,
        setTime: mode & 8 != 0)

    let lines = recordBatch(lines: input.rest)
    let batch: RecordBatch
    switch shape {
    case .text, .raw:
        batch = lines
    case .fluentBit, .split:
        batch = recordBatch(records: lines.records.enumerated().map { i, record in
            let line = Array(lines.bytes[record.value])
            var value: [UInt8] = []
            if shape == .fluentBit {
                value += Array(#"{"log":"#.utf8)
                line.withUnsafeBytes { JSONBytes.appendString($0, to: &value) }
            } else {
                // Fluent Bit's cri parser already split the line: the first byte is the tag.
                value += Array(#"{"message":"#.utf8)
                line.dropFirst().withUnsafeBytes { JSONBytes.appendString($0, to: &value) }
                value += Array(#","logtag":"#.utf8)
                line.prefix(1).withUnsafeBytes { JSONBytes.appendString($0, to: &value) }
                value += Array(#","stream":"#.utf8) + Array((i % 3 == 2 ? "\"stderr\"" : "\"stdout\"").utf8)
            }
            let pod = (pods >> UInt8(i % 8)) & 1
            value += Array(#","kubernetes":{"namespace_name":"shop","pod_name":"pod-\#(pod)","container_name":"app"}}"#.utf8)
            return value
        })
    }

    // One flushed pass over the whole window.
    let whole = runChecked(SinkPipeline.cri(options), batch, flush: true)

    // The runner's way: a window cut where a line waits, then read again from the cut.
    let runner = SinkPipeline.cri(options)
    let first = runChecked(runner, batch, flush: false)
    var delivered = first
    if first.held {
        var rest = batch
        rest.records.removeAll { $0.sequence < first.nextSequence }
        let second = runChecked(runner, rest, flush: true)
        delivered.records += second.records
        delivered.values += second.values
    }
    require(
        delivered.values == whole.values && delivered.records.map(\.sequence) == whole.records.map(\.sequence)
            && delivered.records.map(\.timestampMs) == whole.records.map(\.timestampMs),
        "cutting the window changed what is delivered:\nwhole: \(whole.values.map { show($0) })\ncut at \(first.nextSequence): \(delivered.values.map { show($0) })")

    if shape == .text, options.maxBytes > 6 * size + 16 { checkJoined(lines, whole, options) }
    return 0
}

enum Shape: UInt8 {
    /// The CRI line is the record (a file tailed without any parser).
    case text
    /// Fluent Bit's tail input: the CRI line in `log`, Kubernetes metadata beside it.
    case fluentBit
    /// Fluent Bit's `cri` parser: message, `logtag` and `stream` already split.
    case split
    /// The line is the record as it is (the fuzzer writes the JSON).
    case raw
}

extension SinkPipeline {
    static func cri(_ options: CRIOptions) -> SinkPipeline { pipeline([.cri(options)]) }
}

/// The joiner's model for plain CRI lines: per stream, `P` fragments collect until an `F`; what is
/// still open at the end of a flushed window leaves marked partial.
private func checkJoined(_ lines: RecordBatch, _ result: PipelineResult, _ options: CRIOptions) {
    struct Expected { var index: Int; var message: [UInt8]; var stream: [UInt8]; var partial: Bool; var isCRI = true }
    var expected: [Expected] = []
    var open: [[UInt8]: Expected] = [:]
    for (i, record) in lines.records.enumerated() {
        let line = Array(lines.bytes[record.value])
        // Lines that look like JSON objects are read as JSON records, not modelled here.
        if line.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) == UInt8(ascii: "{") { return }
        guard let cri = line.withUnsafeBytes({ CRILine.parse($0) }) else {
            expected.append(Expected(index: i, message: line, stream: [], partial: false, isCRI: false))
            continue
        }
        let stream = Array(line[cri.stream])
        let message = Array(line[cri.message])
        if var group = open.removeValue(forKey: stream) {
            group.message += message
            group.index = i
            if cri.isPartial { open[stream] = group } else { group.partial = false; expected.append(group) }
        } else if cri.isPartial {
            open[stream] = Expected(index: i, message: message, stream: stream, partial: true)
        } else {
            expected.append(Expected(index: i, message: message, stream: stream, partial: false))
        }
    }
    expected += open.values
    expected.sort { $0.index < $1.index }
    require(result.values.count == expected.count, "\(result.values.count) events for \(expected.count) joined lines")
    let target = options.target ?? path("message")
    for (want, (record, value)) in zip(expected, zip(result.records, result.values)) {
        require(record.sequence == lines.records[want.index].sequence, "event for record \(record.sequence), expected \(want.index)")
        guard want.isCRI else {
            require(value == want.message, "a line that is not CRI changed: \(show(value))")
            continue
        }
        // The message as the product's own escaping and reading give it back (invalid UTF-8 as U+FFFD).
        var escaped = Array(#"{"m":"#.utf8)
        want.message.withUnsafeBytes { JSONBytes.appendString($0, to: &escaped) }
        escaped.append(UInt8(ascii: "}"))
        let message = stringField(escaped, path("m"))
        require(
            stringField(value, target) == message,
            "joined message \(show(stringField(value, target) ?? [])) instead of \(show(message ?? [])) in \(show(value))")
        if let streamField = options.streamField {
            require(stringField(value, streamField) == want.stream, "stream lost in \(show(value))")
        }
        let partial = value.withUnsafeBytes { JSONBytes.lookup(["cri_partial"], in: $0).map(Array.init) }
        require((partial == Array("true".utf8)) == want.partial, "cri_partial wrong in \(show(value))")
    }
}
