import LogBridgePipeline
import Testing

@Suite("Redaction modes and rules")
struct RedactionModeTests {
    let key = Array("test-key".utf8)

    @Test func maskNamesTheDetector() throws {
        #expect(try redacted("x a@example.com 123-45-6789") == "x [REDACTED:email] [REDACTED:us_ssn]")
    }

    @Test func hashIsDeterministicKeyedAndSized() throws {
        let rules = RedactionRules(mode: .hash, hashKey: key)
        let a = try redacted("to a@example.com", rules: rules)
        let b = try redacted("again a@example.com", rules: rules)
        let token = String(a.dropFirst(3))
        #expect(token.hasPrefix("[email:") && token.hasSuffix("]"))
        #expect(token.count == "[email:]".count + 16)
        #expect(b.hasSuffix(token), "same value, same token")
        #expect(try redacted("to b@example.com", rules: rules) != a, "different value, different token")
        var otherKey = rules
        otherKey.hashKey = Array("other-key".utf8)
        #expect(try redacted("to a@example.com", rules: otherKey) != a, "different key, different token")
        var long = rules
        long.hashLength = 64
        let full = try redacted("a@example.com", rules: long)
        #expect(full.count == "[email:]".count + 64)
        // Known HMAC-SHA256("test-key", "a@example.com") prefix, computed with OpenSSL:
        // printf 'a@example.com' | openssl dgst -sha256 -hmac test-key
        #expect(full.hasPrefix("[email:"))
        #expect(a.hasSuffix(String(full.dropFirst("[email:".count).prefix(16)) + "]"))
    }

    @Test func hashMatchesOpenSSLReference() throws {
        let output = try redacted("a@example.com", rules: RedactionRules(mode: .hash, hashKey: key, hashLength: 64))
        #expect(output == "[email:\(Self.referenceHMAC)]")
    }
    /// `printf 'a@example.com' | openssl dgst -sha256 -hmac test-key`
    static let referenceHMAC = "2363ab9eace4d9958d6b6038632c35049a8dfc7f3e5030b5035f95ee42b9677a"

    @Test func partialForms() throws {
        let rules = RedactionRules(mode: .partial)
        #expect(try redacted("card 4111 1111 1111 1234", rules: rules) == "card 4111 1111 1111 1234") // Luhn fails: untouched
        #expect(try redacted("card 4111 1111 1111 1111", rules: rules) == "card [REDACTED:credit_card:1111]")
        #expect(try redacted("mail eva.b@example.com", rules: rules) == "mail [REDACTED:email]@example.com")
        #expect(try redacted("ssn 123-45-6789", rules: rules) == "ssn [REDACTED:us_ssn:6789]")
        #expect(try redacted("tel +44 20 7946 0958", rules: rules) == "tel [REDACTED:phone:58]")
        #expect(try redacted("iban DE89 3704 0044 0532 0130 00", rules: rules) == "iban [REDACTED:iban:DE..3000]")
        #expect(try redacted("ip 10.1.22.33", rules: rules) == "ip 10.1.x.x")
        #expect(try redacted("key AKIAIOSFODNN7EXAMPLE", rules: rules) == "key [REDACTED:aws_access_key]")
        // Partial output keeps JSON valid outside strings too.
        #expect(try redacted(#"{"pan":4111111111111111}"#, .jsonText, rules: rules) == #"{"pan":"[REDACTED:credit_card:1111]"}"#)
    }

    @Test func overridesPerDetector() throws {
        let rules = RedactionRules(mode: .mask, modeOverrides: ["ipv4": .partial, "email": .hash, "order": .partial],
                                   hashKey: key, hashLength: 8)
        var withCustom = rules
        withCustom.custom = [CustomDetector(name: "order", pattern: #"ORD-\d+"#)]
        let output = try redacted("10.2.3.4 a@example.com 123-45-6789 ORD-99", rules: withCustom)
        #expect(output.hasPrefix("10.2.x.x [email:"))
        #expect(output.hasSuffix("] [REDACTED:us_ssn] [REDACTED:order]"))
        #expect(output.count == "10.2.x.x [email:12345678] [REDACTED:us_ssn] [REDACTED:order]".count)
    }

    @Test func ruleErrors() {
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(mode: .hash)) }
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(modeOverrides: ["phone": .hash])) }
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(modeOverrides: ["nope": .mask])) }
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(hashLength: 3)) }
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(custom: [CustomDetector(name: "email", pattern: "x")])) }
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(custom: [CustomDetector(name: "bad\"name", pattern: "x")])) }
        // Overrides may only name enabled detectors.
        #expect(throws: RedactionError.self) { try Redactor(rules: RedactionRules(detectors: [.email], modeOverrides: ["ipv4": .partial])) }
        do {
            _ = try Redactor(rules: RedactionRules(mode: .hash))
        } catch {
            #expect(error.message.contains("hash key"))
        }
    }

    @Test func badCustomPatternNamesPatternAndOffset() {
        do {
            _ = try Redactor(rules: RedactionRules(custom: [CustomDetector(name: "ticket", pattern: "TCK-(\\d+")]))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("ticket"))
            #expect(error.message.contains("TCK-(\\\\d+"))
            #expect(error.message.contains("missing closing parenthesis"))
            #expect(error.message.contains("offset 8"))
        }
    }

    @Test func customValueGroupIsReplacedAlone() throws {
        let rules = RedactionRules(detectors: [], custom: [CustomDetector(name: "session", pattern: #"session=(?<value>[a-f0-9]{8,})"#)])
        #expect(try redacted("ok session=deadbeef01 done", rules: rules) == "ok session=[REDACTED:session] done")
        #expect(try redacted(#"{"m":"session=deadbeef01"}"#, .jsonText, rules: rules) == #"{"m":"session=[REDACTED:session]"}"#)
    }

    @Test func customAndBuiltInOverlapKeepsTheEarliest() throws {
        let rules = RedactionRules(custom: [CustomDetector(name: "mailbox", pattern: #"mailbox [a-z]+@"#)])
        let redactor = try Redactor(rules: rules)
        let result = redacted("mailbox eva@example.com x", .plain, with: redactor)
        #expect(result.output == "[REDACTED:mailbox]example.com x")
        #expect(result.counts == ["mailbox": 1])
    }
}
