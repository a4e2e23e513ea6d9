import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The `json` processor in a real `SinkPipeline`, over a window of records (one per input line),
/// so one event's arena and tree are reused for the next as in the gateway. The first byte picks
/// the shape: the line as the whole record, or the line inside a Fluent Bit record's `log` string;
/// parsed into `log_processed` or merged into the root; with or without `remove_source`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONProcessor(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let wrap = mode & 1 != 0
    let merge = mode & 2 != 0
    let pipeline = mode & 4 != 0 ? removing[merge ? 1 : 0] : keeping[merge ? 1 : 0]

    let lines = recordBatch(lines: input.rest)
    let batch: RecordBatch
    if wrap {
        batch = recordBatch(records: lines.records.map { record in
            var value = Array(#"{"log":"#.utf8)
            lines.withValue(of: record) { JSONBytes.appendString($0, to: &value) }
            value += Array(#","kubernetes":{"namespace_name":"shop","pod_name":"checkout-1"}}"#.utf8)
            return value
        })
    } else {
        batch = lines
    }
    let result = runChecked(pipeline, batch, flush: true)
    require(result.values.count == batch.records.count, "the json processor dropped an event")

    if wrap, !merge {
        // A `log` holding a JSON value that starts like an object or array is parsed or marked.
        for (record, out) in zip(lines.records, result.values) {
            let text = Array(lines.bytes[record.value])
            guard let first = text.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
                first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
            else { continue }
            let event = Event()
            out.withUnsafeBytes { event.load($0, timeNanos: -1) }
            let parsed = event.kind(at: target) == .object || event.kind(at: target) == .array
            let marked = event.kind(at: errorField) == .string
            require(parsed != marked, "log \(show(text)) was neither parsed nor marked: \(show(out))")
            // (Invalid UTF-8 in the line was replaced when it was escaped into the record.)
            if parsed, String(validating: text, as: UTF8.self) != nil {
                require(JSONBytes.isValid(text), "log \(show(text)) is not valid JSON but was parsed")
            }
        }
    }
    return 0
}

private let source = path("log")
private let target = path("log_processed")
private let errorField = path("pipeline_error")
private let keeping = [
    pipeline([.json(ParseJSONOptions(field: source, target: target))]),
    pipeline([.json(ParseJSONOptions(field: source))]),
]
private let removing = [
    pipeline([.json(ParseJSONOptions(field: source, target: target, removeSource: true))]),
    pipeline([.json(ParseJSONOptions(field: source, removeSource: true))]),
]
