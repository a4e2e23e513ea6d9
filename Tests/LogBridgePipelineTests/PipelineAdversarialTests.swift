import LogBridgeCore
import Testing

@testable import LogBridgePipeline

/// Hostile input through a whole pipeline: no crash, bounded time, nothing lost.
@Suite struct PipelineAdversarialTests {
    typealias S = PipelineTestSupport

    static let processors: [ProcessorConfiguration] = [
        .json(ParseJSONOptions(field: S.path("log"), target: S.path("log_processed"))),
        .regex(RegexOptions(extract: ExtractOptions(field: S.path("log"), target: S.path("r")), pattern: "^(?P<a>(a+)+)$")),
        .logfmt(ExtractOptions(field: S.path("log"), target: S.path("l"))),
        .redact(RedactOptions()),
    ]

    @Test func hostileLinesPassThroughInBoundedTime() throws {
        let pipeline = try S.pipeline(Self.processors)
        var lines: [String] = []
        lines.append(#"{"log":""# + String(repeating: "a", count: 40) + "b\"}")  // catastrophic backtracking for (a+)+$
        lines.append(#"{"log":""# + String(repeating: "4111 1111 1111 1111 user@example.com 10.0.0.1 ", count: 20_000) + "\"}")  // ~1 MiB
        lines.append(#"{"log":"# + String(repeating: "[", count: 100_000) + "}")  // nested 100,000 deep (invalid)
        lines.append(#"{"log":"{\"a\":"# + String(repeating: #"{\"a\":"#, count: 50_000) + "\"}")
        lines.append(String(repeating: "=\"", count: 200_000))  // logfmt of unterminated quotes, as text
        var invalid = Array(#"{"log":"caf"#.utf8)
        invalid += [0xC3, 0x28, 0xFF, 0xFE]
        invalid += Array(#" user@example.com"}"#.utf8)
        var batch = S.batch(lines)
        let start = batch.bytes.count
        batch.bytes += invalid
        batch.records.append(.init(sequence: 5, topicIndex: 0, partition: 0, offset: 5, timestampMs: 0, key: nil, value: start..<batch.bytes.count))
        batch.nextSequence = 6

        let began = ContinuousClock.now
        let output = pipeline.process(batch, flush: true)
        #expect(ContinuousClock.now - began < .seconds(30))
        #expect(output.batch.count == 6, "every record leaves, processed or as it was")
        let texts = S.texts(output.batch)
        // Booleans, not the strings: a failure must not print a megabyte.
        let leakedCard = texts[1].contains("4111 1111 1111 1111")
        let leakedEmail = texts[1].contains("user@example.com")
        #expect(!leakedCard)
        #expect(!leakedEmail, "values and keys made from the data are redacted")
        #expect(texts[1].utf8.count > 500_000)
        #expect(!texts[5].contains("user@example.com"), "invalid UTF-8 elsewhere does not stop redaction")
    }
}
