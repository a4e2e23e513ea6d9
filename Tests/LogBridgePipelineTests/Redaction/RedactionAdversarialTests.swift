import Foundation
import LogBridgePipeline
import Testing

/// Hostile input: no crash, bounded time (generous limits; debug builds are slow).
@Suite("Redaction on adversarial input")
struct RedactionAdversarialTests {
    let redactor = try! Redactor(rules: RedactionRules())

    func timed(_ bytes: [UInt8], _ context: RedactionContext, with redactor: Redactor) -> (output: [UInt8], seconds: Double) {
        var output: [UInt8] = []
        var counts = [Int](repeating: 0, count: redactor.detectorNames.count)
        let start = DispatchTime.now().uptimeNanoseconds
        _ = bytes.withUnsafeBytes { redactor.redact($0, context: context, into: &output, counts: &counts) }
        return (output, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    @Test func invalidUTF8PassesThrough() {
        var bytes: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28, 0x80]
        bytes += Array(" a@example.com ".utf8) + [0xE2, 0x82] + Array("4111111111111111".utf8) + [0xF0]
        let custom = try! Redactor(rules: RedactionRules(custom: [CustomDetector(name: "num", pattern: #"\d{4}"#)]))
        for redactor in [redactor, custom] {
            for context in [RedactionContext.plain, .jsonString, .jsonText] {
                let output = timed(bytes, context, with: redactor).output
                #expect(output.starts(with: [0xFF, 0xFE, 0xC3, 0x28, 0x80]))
                #expect(String(decoding: output, as: UTF8.self).contains("[REDACTED:email]"))
            }
        }
    }

    @Test func oneMebibyteOfNoise() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789@:.-+ ()=abAKIAeyJ\\\"".utf8)
        let noise = (0..<(1 << 20)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
        for context in [RedactionContext.plain, .jsonString, .jsonText] {
            let (output, seconds) = timed(noise, context, with: redactor)
            #expect(output.count > 0)
            #expect(seconds < 5, "\(context): \(seconds) s")
        }
        let digits = [UInt8](repeating: 0x37, count: 1 << 20)
        #expect(timed(digits, .plain, with: redactor).output == digits)
        let colons = Array(repeating: Array("a:".utf8), count: 1 << 19).flatMap { $0 }
        #expect(timed(colons, .plain, with: redactor).seconds < 5)
        let ats = Array(repeating: Array("a@b.".utf8), count: 1 << 18).flatMap { $0 }
        #expect(timed(ats, .plain, with: redactor).seconds < 5)
        let dashes = Array(repeating: Array("-----BEGIN PRIVATE KEY-----".utf8), count: 1 << 15).flatMap { $0 }
        #expect(timed(dashes, .plain, with: redactor).seconds < 5)
    }

    @Test func deepNesting() {
        let brackets = [UInt8](repeating: 0x5B, count: 100_000)
        #expect(timed(brackets, .jsonText, with: redactor).output == brackets)
        let objects = Array(repeating: Array(#"{"a":"#.utf8), count: 100_000).flatMap { $0 }
        let (output, seconds) = timed(objects, .jsonText, with: redactor)
        #expect(output == objects)
        #expect(seconds < 5)
        // Long strings of quotes and backslashes with a card at the end.
        let quotes = Array(repeating: Array(#"\"\\"#.utf8), count: 50_000).flatMap { $0 } + Array(#"","n":4111111111111111}"#.utf8)
        let redactedQuotes = String(decoding: timed(quotes, .jsonText, with: redactor).output, as: UTF8.self)
        #expect(redactedQuotes.hasSuffix(#"","n":"[REDACTED:credit_card]"}"#))
    }

    @Test func catastrophicCustomPatternReturnsPromptly() throws {
        let redactor = try Redactor(rules: RedactionRules(detectors: [], custom: [CustomDetector(name: "evil", pattern: "(a+)+$")]))
        let input = Array((String(repeating: "a", count: 30) + "b").utf8)
        let (output, seconds) = timed(input, .plain, with: redactor)
        // Fails closed: the value the pattern could not decide on is masked (RedactionFailClosedTests).
        #expect(output == Array("[REDACTED:evil]".utf8))
        #expect(seconds < 2, "\(seconds) s")
        #expect(redactor.customLimitHits >= 1)
        // The redactor still works afterwards.
        #expect(redacted("aaa", .plain, with: redactor).output == "[REDACTED:evil]")
    }
}
