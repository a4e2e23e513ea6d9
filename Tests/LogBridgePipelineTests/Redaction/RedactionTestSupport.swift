import LogBridgePipeline

/// Redacts `text` and returns the output and the non-zero counts by detector name.
func redacted(
    _ text: String,
    _ context: RedactionContext = .plain,
    with redactor: Redactor
) -> (output: String, counts: [String: Int], replaced: Int) {
    var output: [UInt8] = []
    var counts = [Int](repeating: 0, count: redactor.detectorNames.count)
    let bytes = Array(text.utf8)
    let replaced = bytes.withUnsafeBytes { redactor.redact($0, context: context, into: &output, counts: &counts) }
    var named: [String: Int] = [:]
    for (index, count) in counts.enumerated() where count > 0 { named[redactor.detectorNames[index]] = count }
    return (String(decoding: output, as: UTF8.self), named, replaced)
}

func redacted(_ text: String, _ context: RedactionContext = .plain, rules: RedactionRules = RedactionRules()) throws -> String {
    redacted(text, context, with: try Redactor(rules: rules)).output
}
