import Foundation
import LogBridgeCore
import Testing

@testable import LogBridgePipeline

/// A custom pattern that PCRE2 cannot finish (match, depth or JIT stack limit) masks the whole
/// value and is counted, instead of letting the value through as "no match".
@Suite("Redaction fails closed")
struct RedactionFailClosedTests {
    /// `(a+)+$` on `aaa…ab`: exponential backtracking, stopped by the match limit.
    static let evil = CustomDetector(name: "evil", pattern: "(a+)+$")
    static let catastrophic = String(repeating: "a", count: 30) + "b"

    func run(_ text: String, _ context: RedactionContext, _ redactor: Redactor) -> (output: String, counts: [Int], failed: [Int], replaced: Int) {
        var output: [UInt8] = []
        var counts = [Int](repeating: 0, count: redactor.detectorNames.count)
        var failed = counts
        let replaced = Array(text.utf8).withUnsafeBytes {
            redactor.redact($0, context: context, into: &output, counts: &counts, failedClosed: &failed)
        }
        return (String(decoding: output, as: UTF8.self), counts, failed, replaced)
    }

    @Test func aCatastrophicPatternMasksThePlainValueAndCountsIt() throws {
        let redactor = try Redactor(rules: RedactionRules(custom: [Self.evil]))
        let slot = try #require(redactor.detectorNames.firstIndex(of: "evil"))
        let started = ContinuousClock.now
        let result = run("user eva@example.com " + Self.catastrophic, .plain, redactor)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(result.output == "[REDACTED:evil]")
        #expect(result.failed[slot] == 1)
        #expect(result.failed.reduce(0, +) == 1)
        // The mask is a replacement of that detector; the e-mail inside it is not written twice.
        #expect(result.counts[slot] == 1)
        #expect(result.replaced == result.counts.reduce(0, +))
        #expect(redactor.customLimitHits >= 1)
        // The same redactor still matches normally afterwards.
        #expect(run("aaa", .plain, redactor).output == "[REDACTED:evil]")
        #expect(run("aaa", .plain, redactor).failed[slot] == 0)
        #expect(run("bbb", .plain, redactor).output == "bbb")
    }

    @Test func aJSONStringBodyIsMaskedWhole() throws {
        let redactor = try Redactor(rules: RedactionRules(detectors: [], custom: [Self.evil]))
        let result = run(#"say \"hi\"\n"# + Self.catastrophic, .jsonString, redactor)
        #expect(result.output == "[REDACTED:evil]")
        #expect(result.failed == [1])
    }

    /// In JSON text every value is masked on its own; keys, literals and structure stay, so the
    /// record is still the same JSON object with the same keys.
    @Test func inJSONTextEveryValueIsMaskedAndTheDocumentStaysJSON() throws {
        let redactor = try Redactor(rules: RedactionRules(custom: [Self.evil]))
        let line = #"{"log":"\#(Self.catastrophic)","n":-12.5e3,"ok":true,"none":null,"k":{"list":["a\"b",7,false]},"empty":""}"#
        let result = run(line, .jsonText, redactor)
        #expect(result.output == #"{"log":"[REDACTED:evil]","n":"[REDACTED:evil]","ok":true,"none":null,"k":{"list":["[REDACTED:evil]","[REDACTED:evil]",false]},"empty":""}"#)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["log", "n", "ok", "none", "k", "empty"])
        #expect(result.counts.reduce(0, +) == 4)
        #expect(result.failed.reduce(0, +) == 1)
    }

    @Test func failingClosedFollowsTheDetectorsMode() throws {
        let key = Array("test-key".utf8)
        let hashed = try Redactor(rules: RedactionRules(custom: [Self.evil], mode: .hash, hashKey: key, hashLength: 8))
        let output = run(Self.catastrophic, .plain, hashed).output
        #expect(output.hasPrefix("[evil:") && output.count == "[evil:]".count + 8)
        let partial = try Redactor(rules: RedactionRules(custom: [Self.evil], mode: .partial))
        #expect(run(Self.catastrophic, .plain, partial).output == "[REDACTED:evil]")
    }

    /// An empty match retries one character further, never inside a multi-byte character, and a
    /// pattern that simply does not match is no failure.
    @Test func noFailureWithoutALimit() throws {
        let redactor = try Redactor(rules: RedactionRules(detectors: [], custom: [
            CustomDetector(name: "empty", pattern: "x*"), CustomDetector(name: "order", pattern: #"ORD-\d{4}"#),
        ]))
        let result = run("é€😀 ORD-1234 ü", .plain, redactor)
        #expect(result.output == "é€😀 [REDACTED:order] ü")
        #expect(result.failed == [0, 0])
    }

    /// PCRE2's default JIT stack (32 KiB) stops this pattern on a string of about 2 KiB; with the
    /// pattern's own stack a 20 KiB value is matched, not failed closed.
    @Test func longLinesHaveJITStackEnough() throws {
        let detector = CustomDetector(name: "msg", pattern: #""msg":"(?<value>(?:\\.|[^"\\])*)""#)
        let redactor = try Redactor(rules: RedactionRules(detectors: [], custom: [detector]))
        let body = String(repeating: #"abc \"q\" "#, count: 2_300)
        let result = run(#"{"msg":"\#(body)","n":1}"#, .jsonText, redactor)
        #expect(result.failed == [0])
        #expect(result.output == #"{"msg":"[REDACTED:msg]","n":1}"#)
    }

    /// The `redact` processor counts failures per detector in
    /// `logbridge_pipeline_redaction_failed_closed_total`, and not again when a window is replayed.
    @Test func theProcessorCountsFailuresPerDetector() throws {
        let metrics = PipelineMetrics.exported()
        let rules = RedactionRules(custom: [Self.evil, CustomDetector(name: "order", pattern: #"ORD-\d{4}"#)])
        let pipeline = try PipelineTestSupport.pipeline([.redact(RedactOptions(rules: rules))], metrics: metrics)
        let lines = [
            #"{"log":"\#(Self.catastrophic)","stream":"stdout","n":5}"#,
            #"{"log":"ORD-1234 ok","stream":"stdout"}"#,
            "plain " + Self.catastrophic,
        ]
        let output = PipelineTestSupport.texts(try pipeline.process(PipelineTestSupport.batch(lines), flush: true).batch)
        #expect(output[0] == #"{"log":"[REDACTED:evil]","stream":"[REDACTED:evil]","n":"[REDACTED:evil]"}"#)
        #expect(output[1] == #"{"log":"[REDACTED:order] ok","stream":"stdout"}"#)
        #expect(output[2] == "[REDACTED:evil]")
        let name = "logbridge_pipeline_redaction_failed_closed_total"
        #expect(metrics.value(name, labels: ["detector": "evil"]) == 2)
        #expect(metrics.value(name, labels: ["detector": "order"]) == nil)
        #expect(metrics.value("logbridge_pipeline_redactions_total", labels: ["detector": "evil"]) == 4)
        #expect(metrics.render().contains(#"logbridge_pipeline_redaction_failed_closed_total{detector="evil"} 2"#))

        // With `fields`, only the failing field's value is masked.
        let fieldMetrics = PipelineMetrics()
        let byField = try PipelineTestSupport.pipeline(
            [.redact(RedactOptions(rules: rules, fields: [PipelineTestSupport.path("log")]))], metrics: fieldMetrics)
        let fieldOutput = PipelineTestSupport.texts(try byField.process(PipelineTestSupport.batch([lines[0]]), flush: true).batch)
        #expect(fieldOutput == [#"{"log":"[REDACTED:evil]","stream":"stdout","n":5}"#])
        #expect(fieldMetrics.value(name, labels: ["detector": "evil"]) == 1)
    }
}
