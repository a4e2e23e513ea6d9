import Foundation
import LogBridgePipeline
import LogBridgeTestSupport
import Testing

/// The default rules on ``PIICorpus/generateURLSecrets(count:seed:)``: URL userinfo with an
/// empty user, secrets in query strings, token formats, in plain lines and in JSON (escaped
/// slashes, escaped quotes, `\u0026`), with decoys beside them.
@Suite("Redaction on the URL and token secret corpus")
struct RedactionURLSecretCorpusTests {
    static let lines = PIICorpus.generateURLSecrets(count: 20_000, seed: 15)

    @Test func everyKindIsFoundAtLeast995PercentAndNoDecoyIsTouched() throws {
        let redactor = try Redactor(rules: RedactionRules())
        var found: [String: Int] = [:], total: [String: Int] = [:]
        var kept: [String: Int] = [:], decoys: [String: Int] = [:]
        var misses: [String] = [], damaged: [String] = [], falseFindings: [String] = []
        var invalidJSON = 0
        for line in Self.lines {
            let result = redacted(line.text, line.isJSON ? .jsonText : .plain, with: redactor)
            for ((_, value), kind) in zip(line.pii, line.piiKinds) {
                total[kind, default: 0] += 1
                if result.output.contains(value) {
                    if misses.count < 20 { misses.append("\(kind): \(value)\n  in: \(line.text)") }
                } else {
                    found[kind, default: 0] += 1
                }
            }
            for (kind, value) in zip(line.decoyKinds, line.decoys) {
                decoys[kind, default: 0] += 1
                if result.output.contains(value) {
                    kept[kind, default: 0] += 1
                } else if damaged.count < 20 {
                    damaged.append("\(kind): \(value)\n  out: \(result.output)")
                }
            }
            if line.pii.isEmpty && result.replaced > 0 && falseFindings.count < 20 {
                falseFindings.append("\(result.counts): \(line.text)\n  out: \(result.output)")
            }
            if line.isJSON && (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) == nil { invalidJSON += 1 }
        }
        var table = "kind                        found/total   recall\n"
        for name in PIICorpus.urlSecretKinds {
            let t = total[name, default: 0], f = found[name, default: 0]
            table += "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%6d/%-6d %7.2f%%", f, t, t == 0 ? 0 : 100 * Double(f) / Double(t)))\n"
        }
        table += "decoy kind                  kept/total\n"
        for name in decoys.keys.sorted() {
            table += "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%6d/%-6d", kept[name, default: 0], decoys[name, default: 0]))\n"
        }
        print(table)
        for miss in misses { print("MISS " + miss) }
        for damage in damaged { print("DECOY LOST " + damage) }
        for finding in falseFindings { print("FALSE FINDING " + finding) }
        for name in PIICorpus.urlSecretKinds {
            let t = total[name, default: 0]
            #expect(t >= 500, "too few \(name) samples: \(t)")
            #expect(Double(found[name, default: 0]) >= 0.995 * Double(t), "recall of \(name)")
        }
        #expect(decoys.count >= 8)
        for (name, t) in decoys {
            #expect(kept[name, default: 0] == t, "decoys of kind \(name) preserved")
        }
        #expect(falseFindings.isEmpty, "lines without secrets were changed")
        #expect(invalidJSON == 0)
    }

    @Test func corpusCoversEveryFramingAndIsDeterministic() {
        let a = PIICorpus.generateURLSecrets(count: 300, seed: 3)
        #expect(a.map(\.text) == PIICorpus.generateURLSecrets(count: 300, seed: 3).map(\.text))
        #expect(a.contains { !$0.isJSON })
        #expect(a.contains { $0.text.contains(#":\/\/"#) }, "slashes escaped once")
        #expect(a.contains { $0.text.contains(#":\\/\\/"#) }, "slashes escaped by the application")
        #expect(a.contains { $0.text.contains(#":\\\/\\\/"#) }, "slashes escaped by the application and the shipper")
        #expect(a.contains { $0.text.contains(#"\\u0026"#) }, "& escaped by the application's encoder")
        #expect(a.contains { $0.text.contains(#"\""#) }, "escaped quotes")
    }
}
