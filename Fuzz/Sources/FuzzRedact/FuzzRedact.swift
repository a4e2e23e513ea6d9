import FuzzSupport
import LogBridgeCore
import LogBridgePipeline

/// The redactor with every built-in detector, in each replacement mode (the first byte picks
/// mask, partial or hash; the framing: the bytes as JSON text, escaped into a JSON string body,
/// inside a record, or plain; and which processor runs), and the `redact` processor in a real
/// pipeline, over the whole event or over `fields`.
///
/// - `.jsonText`: a valid JSON document stays valid JSON (what `Redactor` documents).
/// - `.jsonString`: the body of a valid JSON string stays a valid string body.
/// - No replacement means the bytes pass through unchanged; the count matches the counters.
/// - The processor keeps the pipeline's promises; with `fields`, a changed event is JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedact(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.byte()
    let text = input.rest
    let redactor = redactors[Int(mode & 3) % redactors.count]

    // The framing: the bytes as they are (JSON if they happen to be), the bytes escaped into a
    // JSON string body, or inside a record's string; plain text.
    let context: RedactionContext
    var subject: [UInt8]
    switch (mode >> 2) & 3 {
    case 0:
        context = .jsonText
        subject = Array(text)
    case 1:
        context = .jsonString
        subject = []
        JSONBytes.appendEscaped(text, to: &subject)
    case 2:
        context = .jsonText
        subject = Array(#"{"log":"#.utf8)
        JSONBytes.appendString(text, to: &subject)
        subject += Array(#","n":4111111111111111}"#.utf8)
    default:
        context = .plain
        subject = Array(text)
    }
    let validBefore = context == .jsonString ? JSONBytes.isValid(quoted(subject)) : context == .jsonText && JSONBytes.isValid(subject)
    var output: [UInt8] = []
    var counts = [Int](repeating: 0, count: redactor.detectorNames.count)
    // An allocation of exactly the subject's size, so the sanitizer sees any read past its end
    // (the scanner reads through raw pointers, which have no bounds checks).
    let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: subject.count, alignment: 1)
    defer { exact.deallocate() }
    exact.copyBytes(from: subject)
    let replaced = redactor.redact(UnsafeRawBufferPointer(exact), context: context, into: &output, counts: &counts)
    require(counts.reduce(0, +) == replaced, "\(replaced) replacements but counters say \(counts)")
    if replaced == 0 { require(output == subject, "nothing redacted, yet the bytes changed: \(show(subject))") }
    if validBefore {
        let after = context == .jsonString ? quoted(output) : output
        require(JSONBytes.isValid(after), "\(context) redaction broke valid JSON: \(show(subject)) -> \(show(output))")
    }

    let lines = recordBatch(lines: text)
    if mode & 16 != 0 {
        runChecked(wholeEvent, lines, flush: true, changedIsJSON: false)
    } else {
        runChecked(logField, wrapped(lines, field: "log"), flush: true)
    }
    return 0
}

private func quoted<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
    [UInt8(ascii: "\"")] + Array(bytes) + [UInt8(ascii: "\"")]
}

private let key = Array("fuzz-hash-key-0123456789abcdef".utf8)
private let redactors: [Redactor] = [
    RedactionRules(),
    RedactionRules(mode: .partial),
    RedactionRules(mode: .hash, hashKey: key, hashLength: 12),
].map { rules in
    do { return try Redactor(rules: rules) } catch { fatalError("\(error)") }
}
private let wholeEvent = pipeline([.redact(RedactOptions())])
private let logField = pipeline([.redact(RedactOptions(rules: RedactionRules(mode: .partial), fields: [path("log")]))])
