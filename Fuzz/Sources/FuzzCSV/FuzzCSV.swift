import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The `csv` processor and its parser (`CSVParser`), with the separator, quote and `skip_header`
/// chosen by the first byte.
///
/// - Round trip (RFC 4180): fields from the input (split at 0x00), each written in quotes with
///   inner quotes doubled, read back as the same fields.
/// - A line with no quote byte reads as the line split at the separator.
/// - The processor keeps the pipeline's promises, with named columns and `column<N>` beyond them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let separator = separators[Int(mode & 3)]
    let quote: UInt8 = mode & 4 != 0 ? 0x27 : 0x22
    let text = input.rest
    let parser = CSVParser(separator: separator, quote: quote)
    var scratch: [UInt8] = []

    func fields(_ line: UnsafeRawBufferPointer) -> [[UInt8]] {
        var out: [[UInt8]] = []
        parser.forEachField(in: line, scratch: &scratch) { index, field in
            require(index == out.count, "field index \(index) after \(out.count) fields")
            out.append(Array(field))
        }
        return out
    }

    let values = pieces(text, separator: 0)
    var line: [UInt8] = []
    for (i, value) in values.enumerated() {
        if i > 0 { line.append(separator) }
        line.append(quote)
        for b in value {
            if b == quote { line.append(quote) }
            line.append(b)
        }
        line.append(quote)
    }
    let read = line.withUnsafeBytes { fields($0) }
    require(read == values, "csv round trip: \(show(line)) read back as \(read.map { show($0) })")

    if !text.contains(quote) {
        var end = text.count
        if end > 0, text[end - 1] == 0x0A { end -= 1 }
        if end > 0, text[end - 1] == 0x0D { end -= 1 }
        let body = UnsafeRawBufferPointer(rebasing: text[..<end])
        let expected = body.isEmpty ? [] : pieces(body, separator: separator)
        let got = fields(text)
        require(got == expected, "unquoted line \(show(text)) read as \(got.map { show($0) })")
    }

    let lines = recordBatch(lines: text)
    let wrap = mode & 8 != 0
    let batch = wrap ? wrapped(lines, field: "log") : lines
    let processor = ProcessorConfiguration.csv(CSVOptions(
        extract: ExtractOptions(field: path(wrap ? "log" : "message"), target: mode & 16 != 0 ? path("columns") : .root),
        columns: ["station", "date", "temperature"], separator: separator, quote: quote, skipHeader: mode & 32 != 0))
    runChecked(pipeline([processor]), batch, flush: true)
    return 0
}

private let separators: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")]
