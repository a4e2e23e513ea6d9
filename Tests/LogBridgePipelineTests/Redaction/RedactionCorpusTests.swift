import Foundation
import LogBridgePipeline
import LogBridgeTestSupport
import Testing

@Suite("Redaction on the PII corpus")
struct RedactionCorpusTests {
    static let lines = PIICorpus.generate(count: 20_000, seed: 42)

    @Test func everyDetectorFindsAtLeast995PercentAndDecoysSurvive() throws {
        let redactor = try Redactor(rules: RedactionRules())
        var found: [String: Int] = [:], total: [String: Int] = [:]
        var kept: [String: Int] = [:], decoys: [String: Int] = [:]
        var misses: [String] = []
        var damaged: [String] = []
        for line in Self.lines {
            let output = redacted(line.text, line.isJSON ? .jsonText : .plain, with: redactor).output
            for (detector, value) in line.pii {
                total[detector, default: 0] += 1
                if output.contains(value) {
                    if misses.count < 20 { misses.append("\(detector): \(value)\n  in: \(line.text)") }
                } else {
                    found[detector, default: 0] += 1
                }
            }
            for (kind, value) in zip(line.decoyKinds, line.decoys) {
                decoys[kind, default: 0] += 1
                if output.contains(value) {
                    kept[kind, default: 0] += 1
                } else if damaged.count < 20 {
                    damaged.append("\(kind): \(value)\n  out: \(output)")
                }
            }
        }
        var table = "detector                    found/total   recall\n"
        for name in PIICorpus.detectorNames {
            let t = total[name, default: 0], f = found[name, default: 0]
            table += "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%6d/%-6d %7.2f%%", f, t, t == 0 ? 0 : 100 * Double(f) / Double(t)))\n"
        }
        table += "decoy kind                  kept/total    kept\n"
        for name in decoys.keys.sorted() {
            let t = decoys[name, default: 0], k = kept[name, default: 0]
            table += "\(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%6d/%-6d %7.2f%%", k, t, 100 * Double(k) / Double(t)))\n"
        }
        print(table)
        for miss in misses { print("MISS " + miss) }
        for damage in damaged { print("DECOY LOST " + damage) }
        for name in PIICorpus.detectorNames {
            let t = total[name, default: 0]
            #expect(t >= 100, "too few \(name) samples: \(t)")
            #expect(Double(found[name, default: 0]) >= 0.995 * Double(t), "recall of \(name)")
        }
        for (name, t) in decoys {
            #expect(Double(kept[name, default: 0]) >= 0.99 * Double(t), "decoys of kind \(name) preserved")
        }
    }

    @Test func redactedJSONLinesStayValidJSON() throws {
        let redactor = try Redactor(rules: RedactionRules())
        var checked = 0
        var numberCards = 0
        for line in Self.lines where line.isJSON {
            let output = redacted(line.text, .jsonText, with: redactor).output
            let object = try #require(
                try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                "invalid JSON after redaction: \(output)"
            )
            if let payment = object["payment"] as? [String: Any] {
                #expect(payment["pan"] as? String == "[REDACTED:credit_card]")
                numberCards += 1
            }
            checked += 1
        }
        #expect(checked > 15_000)
        #expect(numberCards > 20, "the corpus should carry cards as JSON numbers")
    }

    @Test func cleanCorpusHasNoFindings() throws {
        let redactor = try Redactor(rules: RedactionRules())
        var findings: [String: Int] = [:]
        for line in PIICorpus.generate(count: 5000, seed: 9, piiFraction: 0) {
            for (name, count) in redacted(line.text, line.isJSON ? .jsonText : .plain, with: redactor).counts {
                findings[name, default: 0] += count
            }
        }
        #expect(findings.isEmpty, "false positives on PII-free lines: \(findings)")
    }

    @Test func corpusIsDeterministic() {
        let a = PIICorpus.generate(count: 200, seed: 5), b = PIICorpus.generate(count: 200, seed: 5)
        #expect(a.map(\.text) == b.map(\.text))
        #expect(a.map(\.text) != PIICorpus.generate(count: 200, seed: 6).map(\.text))
    }
}
