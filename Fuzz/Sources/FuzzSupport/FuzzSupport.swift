import LogBridgeCore
import LogBridgePipeline
import LogBridgeSinks

#if canImport(Glibc)
import Glibc
#endif

/// The fuzzer's bytes: option bytes taken from the front, the rest as the payload. Running out of
/// option bytes reads zeros, so a short input still runs with the first option of each choice.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    private var index = 0

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeRawBufferPointer(start: data, count: size)
    }

    public mutating func byte() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    /// The bytes not taken as options.
    public var rest: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[min(index, bytes.count)...]) }
}

/// Stops the process when a property the product promises does not hold. libFuzzer sees the
/// crash and saves the input; the message says which promise broke.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        let text = "fuzz property violated: \(message())\n"
        _ = text.withCString { fputs($0, stderr) }
        abort()
    }
}

/// Bytes as a readable Swift string literal for failure messages.
public func show(_ bytes: some Sequence<UInt8>) -> String {
    var out = ""
    for b in bytes {
        switch b {
        case 0x20..<0x7F where b != 0x5C && b != 0x22: out.unicodeScalars.append(Unicode.Scalar(b))
        default: out += "\\x" + String(b, radix: 16)
        }
    }
    return "\"\(out)\""
}

extension JSONBytes {
    public static func isValid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { isValid($0) } }
}

/// Records as a sink runner reads them from the spool: one per line of `text`.
public func recordBatch(lines text: UnsafeRawBufferPointer, firstSequence: UInt64 = 0) -> RecordBatch {
    var bytes: [UInt8] = []
    var records: [RecordBatch.Record] = []
    var start = 0
    var sequence = firstSequence
    for i in 0...text.count where i == text.count || text[i] == 0x0A {
        if i == text.count && start == i && !records.isEmpty { break }
        let from = bytes.count
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: text[start..<i]))
        records.append(RecordBatch.Record(
            sequence: sequence, topicIndex: 0, partition: 0, offset: Int64(sequence), timestampMs: -1, key: nil,
            value: from..<bytes.count))
        sequence += 1
        start = i + 1
    }
    return RecordBatch(topics: ["fuzz"], bytes: bytes, records: records)
}

/// `records` (already encoded) as one batch.
public func recordBatch(records values: [[UInt8]], timestampMs: Int64 = -1) -> RecordBatch {
    var bytes: [UInt8] = []
    var records: [RecordBatch.Record] = []
    for (i, value) in values.enumerated() {
        let from = bytes.count
        bytes.append(contentsOf: value)
        records.append(RecordBatch.Record(
            sequence: UInt64(i), topicIndex: 0, partition: 0, offset: Int64(i), timestampMs: timestampMs, key: nil,
            value: from..<bytes.count))
    }
    return RecordBatch(topics: ["fuzz"], bytes: bytes, records: records)
}

/// A field path from a literal known to be valid.
public func path(_ text: String) -> FieldPath {
    do { return try FieldPath(text) } catch { fatalError("bad field path \(text): \(error)") }
}

/// A pipeline as the gateway builds it for one sink, from processors known to be valid.
public func pipeline(_ processors: [ProcessorConfiguration]) -> SinkPipeline {
    do {
        return try SinkPipeline(
            shared: PipelineConfiguration(processors), own: PipelineConfiguration(), sinkName: "fuzz", sinkIndex: 0,
            sinkNames: ["fuzz"], metrics: PipelineMetrics(), countsShared: true)
    } catch {
        fatalError("the fuzz target's pipeline does not build: \(error)")
    }
}

/// What a pipeline sent on for one window: each record with its bytes.
public struct PipelineResult: Equatable {
    public var records: [RecordBatch.Record]
    public var values: [[UInt8]]
    public var nextSequence: UInt64
    public var held: Bool

    public init(_ output: SinkPipeline.Output) {
        records = output.batch.records
        values = output.batch.records.map { Array(output.batch.bytes[$0.value]) }
        nextSequence = output.batch.nextSequence
        held = output.held
    }
}

/// Runs `batch` through `pipeline` as a sink runner does and checks what every pipeline promises:
/// - an event a processor changed leaves as JSON (``JSONBytes/isValid``), and an event that came
///   in as a valid JSON object leaves as valid JSON (other records are text to the pipeline);
/// - every output record is one of the input records (same sequence, offset, partition), in order;
/// - a replayed window (`replay: true`, a re-send) gives the same output.
///
/// - Parameter changedIsJSON: whether a changed event must be JSON. False for `redact` without
///   `fields`, which redacts a text record in place and leaves it text.
/// - Returns: the output of the first run.
@discardableResult
public func runChecked(
    _ pipeline: SinkPipeline, _ batch: RecordBatch, flush: Bool, changedIsJSON: Bool = true
) -> PipelineResult {
    let output = pipeline.process(batch, flush: flush)
    let result = PipelineResult(output)
    var inputs: [UInt64: Int] = [:]
    for (i, record) in batch.records.enumerated() { inputs[record.sequence] = i }
    var previous: UInt64?
    for (record, value) in zip(result.records, result.values) {
        guard let i = inputs[record.sequence] else {
            require(false, "output record with sequence \(record.sequence) is not in the input")
            return result
        }
        let input = batch.records[i]
        require(previous.map { $0 < record.sequence } ?? true, "output records out of order at sequence \(record.sequence)")
        previous = record.sequence
        require(record.offset == input.offset && record.partition == input.partition, "output record \(record.sequence) lost its offset")
        let original = Array(batch.bytes[input.value])
        if JSONBytes.isValid(original), original.first(where: { $0 > 0x20 }) == UInt8(ascii: "{") {
            require(JSONBytes.isValid(value), "valid JSON record \(show(original)) left as invalid JSON \(show(value))")
        } else if changedIsJSON && value != original {
            require(JSONBytes.isValid(value), "record \(show(original)) was changed into invalid JSON \(show(value))")
        }
    }
    require(result.nextSequence <= batch.nextSequence, "the cursor moved past the window")
    require(!(flush && result.held), "a flushed window still holds records")
    let replay = PipelineResult(pipeline.process(batch, flush: flush, replay: true))
    require(replay == result, "a replayed window gave different output:\n\(result.values.map(show))\nthen\n\(replay.values.map(show))")
    return result
}

/// Reads a string field of a JSON event with the product's own reader (unescaped).
public func stringField(_ json: [UInt8], _ field: FieldPath) -> [UInt8]? {
    let event = Event()
    json.withUnsafeBytes { event.load($0, timeNanos: -1) }
    guard event.isJSONObject, event.kind(at: field) == .string else { return nil }
    return event.withText(at: field) { $0.map(Array.init) }
}

/// Each record of `lines` inside a Fluent Bit-style JSON record, as the string member `field`.
public func wrapped(_ lines: RecordBatch, field: String) -> RecordBatch {
    recordBatch(records: lines.records.map { record in
        var value = Array("{\"\(field)\":".utf8)
        lines.withValue(of: record) { JSONBytes.appendString($0, to: &value) }
        value += Array(#","kubernetes":{"namespace_name":"shop","pod_name":"checkout-1","container_name":"app"}}"#.utf8)
        return value
    })
}

/// Splits `bytes` at every `separator` byte (empty pieces kept).
public func pieces(_ bytes: UnsafeRawBufferPointer, separator: UInt8) -> [[UInt8]] {
    bytes.split(separator: separator, omittingEmptySubsequences: false).map(Array.init)
}

/// HTTP statuses sinks meet, picked by one input byte (then any status for the rest).
public func httpStatus(_ byte: UInt8) -> Int {
    let common = [200, 201, 204, 400, 401, 403, 404, 408, 409, 413, 429, 500, 502, 503, 504]
    return Int(byte) < common.count * 16 ? common[Int(byte) % common.count] : 100 + Int(byte - 240) * 31
}

/// Splits `bytes` at the first newline: (header value, body).
public func headerAndBody(_ bytes: UnsafeRawBufferPointer) -> (header: String?, body: [UInt8]) {
    guard let newline = bytes.firstIndex(of: 0x0A) else { return (nil, Array(bytes)) }
    return (String(decoding: bytes[..<newline], as: UTF8.self), Array(bytes[(newline + 1)...]))
}

/// What every verdict must respect, whatever the answer.
public func checkVerdict(_ verdict: HTTPChunkVerdict, chunk: [Int]) {
    switch verdict {
    case .partial(let retry, let rejected):
        let named = retry + rejected.map(\.index)
        require(Set(named).count == named.count, "a record is named twice in \(verdict)")
        require(named.allSatisfy(chunk.contains), "\(verdict) names records outside the chunk \(chunk)")
    case .retryAll(let after, _):
        if let after { require(after >= .zero && after <= .seconds(300), "retry after \(after)") }
    case .rejectAll(let status, let reason):
        require(status >= 400 && status < 500 && !reason.isEmpty, "\(verdict)")
    case .protocolError(_, let reason):
        require(!reason.isEmpty, "\(verdict)")
    case .accepted, .split:
        break
    }
}
