import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The `logfmt` processor and its parser (`LogfmtParser`).
///
/// - Any bytes: the parser never reports an empty key or a key with a blank, control byte or `=`;
///   the processor in a real pipeline keeps the pipeline's promises (``runChecked``).
/// - Round trip: pairs written as logfmt (`k0="<JSON-escaped value>"`, values from the input split
///   at 0x00) parse back to the same values.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLogfmt(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let text = input.rest

    var scratch: [UInt8] = []
    LogfmtParser.forEachPair(in: text, scratch: &scratch) { key, _ in
        require(!key.isEmpty && !key.contains { $0 <= 0x20 || $0 == UInt8(ascii: "=") }, "logfmt key \(show(key)) from \(show(text))")
    }

    // Round trip.
    let values = pieces(text, separator: 0)
    var line: [UInt8] = []
    for (i, value) in values.enumerated() {
        if i > 0 { line += mode & 8 != 0 ? [0x09] : [0x20] }
        line += Array("k\(i)=".utf8)
        // Plain values (no blank, quote, control byte) may go unquoted, as emitters write them.
        if mode & 16 != 0, !value.isEmpty, !value.contains(where: { $0 <= 0x20 || $0 == 0x22 }) {
            line += value
        } else {
            line.append(0x22)
            value.withUnsafeBytes { JSONBytes.appendEscaped($0, to: &line) }
            line.append(0x22)
        }
    }
    var parsed: [([UInt8], [UInt8]?)] = []
    line.withUnsafeBytes { LogfmtParser.forEachPair(in: $0, scratch: &scratch) { parsed.append((Array($0), $1.map(Array.init))) } }
    require(parsed.count == values.count, "\(parsed.count) pairs read back from \(show(line)), \(values.count) written")
    for (i, (value, pair)) in zip(values, parsed).enumerated() {
        require(pair.0 == Array("k\(i)".utf8), "key \(show(pair.0)) instead of k\(i) in \(show(line))")
        // Invalid UTF-8 was written as U+FFFD; compare with what escaping kept.
        if String(validating: value, as: UTF8.self) != nil {
            require(pair.1 == value, "value \(show(pair.1 ?? [])) instead of \(show(value)) in \(show(line))")
        }
    }

    // The processor, on text records and on Fluent Bit records.
    let lines = recordBatch(lines: text)
    let wrap = mode & 1 != 0
    let batch = wrap ? wrapped(lines, field: "log") : lines
    runChecked(pipelines[(wrap ? 2 : 0) + Int(mode >> 1) & 1], batch, flush: true)
    return 0
}

/// Text records read as `{"message": …}`; Fluent Bit records carry the line in `log`.
private let pipelines = ["message", "log"].flatMap { field in
    [
        pipeline([.logfmt(ExtractOptions(field: path(field)))]),
        pipeline([.logfmt(ExtractOptions(field: path(field), target: path("fields")))]),
    ]
}
