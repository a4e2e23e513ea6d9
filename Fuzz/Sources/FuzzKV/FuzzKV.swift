import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The `kv` processor and its parser (`KeyValueParser`), with separators and quote trimming
/// chosen by the first byte (the ones people configure: Logstash and Vector defaults, `, `, `&`, …).
///
/// - Any bytes: no reported key is empty; the processor keeps the pipeline's promises.
/// - Round trip (with `trim_quotes`): pairs written as `k0="<value>"` (the quote and backslash
///   escaped with a backslash; values from the input split at 0x00) parse back to the same values,
///   separators inside the quotes included.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let choice = Int(input.byte())
    let fieldSeparator = fieldSeparators[choice % fieldSeparators.count]
    let valueSeparator = valueSeparators[(choice / fieldSeparators.count) % valueSeparators.count]
    let trimQuotes = mode & 4 == 0
    let text = input.rest

    let parser = KeyValueParser(
        fieldSeparator: Array(fieldSeparator.utf8), valueSeparator: Array(valueSeparator.utf8), trimQuotes: trimQuotes)
    var scratch: [UInt8] = []
    parser.forEachPair(in: text, scratch: &scratch) { key, _ in
        require(!key.isEmpty, "empty kv key from \(show(text))")
    }

    if trimQuotes, valueSeparator != fieldSeparator {
        let quote: UInt8 = mode & 8 != 0 ? 0x27 : 0x22
        let values = pieces(text, separator: 0)
        var line: [UInt8] = []
        for (i, value) in values.enumerated() {
            if i > 0 { line += Array(fieldSeparator.utf8) }
            line += Array("k\(i)\(valueSeparator)".utf8)
            line.append(quote)
            for b in value {
                if b == quote || b == 0x5C { line.append(0x5C) }
                line.append(b)
            }
            line.append(quote)
        }
        var parsed: [([UInt8], [UInt8]?)] = []
        line.withUnsafeBytes { parser.forEachPair(in: $0, scratch: &scratch) { parsed.append((Array($0), $1.map(Array.init))) } }
        require(
            parsed.map(\.0) == values.indices.map { Array("k\($0)".utf8) } && parsed.map(\.1) == values,
            "kv round trip with \(show(fieldSeparator.utf8)) and \(show(valueSeparator.utf8)): \(show(line)) read back as \(parsed.map { show($0.1 ?? []) })")
    }

    let lines = recordBatch(lines: text)
    let wrap = mode & 1 != 0
    let batch = wrap ? wrapped(lines, field: "log") : lines
    let processor = ProcessorConfiguration.kv(KeyValueOptions(
        extract: ExtractOptions(field: path(wrap ? "log" : "message"), target: mode & 2 != 0 ? path("fields") : .root),
        fieldSeparator: fieldSeparator, valueSeparator: valueSeparator, trimQuotes: trimQuotes))
    runChecked(pipeline([processor]), batch, flush: true)
    return 0
}

private let fieldSeparators = [" ", ",", ", ", "&", ";", "|", "\t", "||", " | "]
private let valueSeparators = ["=", ":", "=>", ": ", "|"]
