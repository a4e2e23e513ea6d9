import FuzzSupport
import LogBridgeCore
import LogBridgePipeline
@testable import LogBridgeSinks

/// Framing: one record is one unit whatever its bytes. The input's first byte picks templates;
/// the rest is split at NUL bytes into records (so records may hold CR, LF, invalid UTF-8,
/// anything else).
///
/// - Elasticsearch: the bulk body has exactly two lines per record, each action a valid `create`
///   with the record's `_id`, each source a valid JSON object (also after its `@timestamp` was
///   replaced by the event time found in the record).
/// - Splunk HEC: one line per record, each a valid JSON object with an `event`.
/// - File and console: one line per record in both encodings; each envelope line is valid JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEncoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let option = input.byte()
    var batch = RecordBatch(topics: ["logs"])
    var start = 0
    let rest = input.rest
    for i in 0...rest.count where i == rest.count || rest[i] == 0 {
        let value = batch.bytes.count
        batch.bytes.append(contentsOf: rest[start..<i])
        batch.records.append(.init(
            sequence: UInt64(batch.records.count), topicIndex: 0, partition: 0, offset: Int64(batch.records.count),
            timestampMs: option & 1 == 0 ? 1_795_000_000_000 : -1, key: nil, value: value..<batch.bytes.count))
        start = i + 1
    }
    batch.nextSequence = UInt64(batch.records.count)
    if option & 8 != 0 {
        // As the runner hands batches over: each record's own event time found first, so the
        // Elasticsearch builder replaces whatever `@timestamp` the record holds inside it.
        var eventTime = EventTimeFields.default.makeResolver()
        eventTime.stamp(&batch)
    }
    let count = batch.records.count
    let indices = Array(0..<count)

    let index = try! FieldTemplate(option & 2 == 0 ? "logs-{kubernetes.namespace_name}-%Y.%m.%d" : option & 16 == 0 ? "{log}" : "{%kafka.topic}-{%kafka.key}")
    let bulk = ElasticsearchRequestBuilder(index: index).body(for: indices, of: batch).bytes
    let bulkLines = lines(bulk)
    require(bulkLines.count == 2 * count, "bulk body has \(bulkLines.count) lines for \(count) records: \(show(bulk))")
    for n in 0..<count {
        let action = bulkLines[2 * n]
        let source = bulkLines[2 * n + 1]
        require(JSONBytes.isValid(action), "action \(n) is not JSON: \(show(action))")
        let id = action.withUnsafeBytes { JSONBytes.lookup(["create", "_id"], in: $0).map { Array(JSONBytes.unquoted($0)) } }
        require(id == Array("logs-0-\(n)".utf8), "action \(n) names another record: \(show(action))")
        require(source.first == UInt8(ascii: "{") && JSONBytes.isValid(source), "source \(n) is not a JSON object: \(show(source))")
    }

    var configuration = SplunkHECSinkConfiguration(http: HTTPSinkSettings(endpoints: ["http://127.0.0.1:1"]), sourcetype: try! FieldTemplate("_json"))
    if option & 4 != 0 { configuration.host = try! FieldTemplate("{kubernetes.host}") }
    let hec = HECEventEncoder(configuration: configuration).body(for: indices, of: batch).bytes
    let hecLines = lines(hec)
    require(hecLines.count == count, "HEC body has \(hecLines.count) lines for \(count) records: \(show(hec))")
    for line in hecLines {
        require(JSONBytes.isValid(line), "HEC event is not JSON: \(show(line))")
        require(line.withUnsafeBytes { JSONBytes.lookup(["event"], in: $0) } != nil, "HEC event without event: \(show(line))")
    }

    for encoding in RecordEncoding.allCases {
        let file = encoding.encode(batch)
        let fileLines = lines(file)
        require(fileLines.count == count && !file.contains(0x0D), "\(encoding) has \(fileLines.count) lines for \(count) records: \(show(file))")
        if encoding == .envelope {
            for line in fileLines { require(JSONBytes.isValid(line), "envelope line is not JSON: \(show(line))") }
        }
    }
    return 0
}

/// `body` split at LF; it must end with one.
private func lines(_ body: [UInt8]) -> [[UInt8]] {
    guard !body.isEmpty else { return [] }
    require(body.last == 0x0A, "body does not end with a newline: \(show(body))")
    return body.dropLast().split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
}
