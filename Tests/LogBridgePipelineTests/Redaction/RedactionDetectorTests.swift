import Foundation
import LogBridgePipeline
import Testing

@Suite("Redaction detectors")
struct RedactionDetectorTests {
    let redactor = try! Redactor(rules: RedactionRules())

    func mask(_ text: String, _ context: RedactionContext = .plain) -> String {
        redacted(text, context, with: redactor).output
    }

    @Test(arguments: [
        ("mail anna.schmidt@example.com now", "mail [REDACTED:email] now"),
        ("<bob+logs@mail.example.co.uk>", "<[REDACTED:email]>"),
        ("card 4111 1111 1111 1111 ok", "card [REDACTED:credit_card] ok"),
        ("card=4111-1111-1111-1111;", "card=[REDACTED:credit_card];"),
        ("amex 3782 822463 10005", "amex [REDACTED:credit_card]"),
        ("pan 5555555555554444", "pan [REDACTED:credit_card]"),
        ("from 10.1.2.3:8080", "from [REDACTED:ipv4]:8080"),
        ("peer 2001:db8::8a2e:370:7334 reset", "peer [REDACTED:ipv6] reset"),
        ("full 2001:0db8:85a3:0000:0000:8a2e:0370:7334", "full [REDACTED:ipv6]"),
        ("mapped ::ffff:192.168.1.20 x", "mapped [REDACTED:ipv6] x"),
        ("link fe80::1ff:fe23:4567:890a%eth0", "link [REDACTED:ipv6]%eth0"),
        ("ssn 123-45-6789.", "ssn [REDACTED:us_ssn]."),
        ("call (415) 555-2671 now", "call [REDACTED:phone] now"),
        ("call 415-555-2671", "call [REDACTED:phone]"),
        ("call 415.555.2671", "call [REDACTED:phone]"),
        ("call +44 20 7946 0958", "call [REDACTED:phone]"),
        ("call +14155552671", "call [REDACTED:phone]"),
        ("iban DE89 3704 0044 0532 0130 00 EUR", "iban [REDACTED:iban] EUR"),
        ("iban GB82WEST12345698765432", "iban [REDACTED:iban]"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", "jwt [REDACTED:jwt]"),
        ("Authorization: Bearer abcDEF123456._~+/=", "Authorization: Bearer [REDACTED:bearer_token]"),
        ("auth=bearer 0123456789abcdef", "auth=bearer [REDACTED:bearer_token]"),
        ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=abc+def/ghi=",
         "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=[REDACTED:azure_connection_string]"),
        ("AccountName=a;AccountKey=Zm9vYmFyYmF6==;EndpointSuffix=core.windows.net",
         "AccountName=a;AccountKey=[REDACTED:azure_connection_string];EndpointSuffix=core.windows.net"),
        ("GET /b?sv=2022-11-02&sig=abc%2Bdef%3D&se=2024", "GET /b?sv=2022-11-02&sig=[REDACTED:azure_connection_string]&se=2024"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws_access_key] used"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=[REDACTED:aws_access_key]"),
        ("dsn=postgres://app:S3cr3t!@db.internal:5432/x", "dsn=postgres://app:[REDACTED:url_credentials]@db.internal:5432/x"),
        ("k=-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\ndef==\n-----END RSA PRIVATE KEY----- done", "k=[REDACTED:private_key] done"),
    ])
    func detects(_ input: String, _ expected: String) {
        #expect(mask(input) == expected)
    }

    @Test(arguments: [
        "order 4111111111111112 shipped",          // Luhn fails
        "id 1714557600123 ts",                       // 13-digit epoch (no card network starts with 1)
        "run 4111111111111111111111111 digits",    // card inside a 25-digit run
        "uuid 550e8400-e29b-41d4-a716-446655440000",
        "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
        "at 2024-05-01T10:00:00.123+02:00 took 1.234s",
        "clock 10:00:00 and 23:59",
        "mac 00:1a:2b:3c:4d:5e",
        "std::vector and a::b::c",
        "version 1.27.3 and v2.14.1 and 1.2.3.4.5",
        "ua Mozilla/5.0 Chrome/124.0.0.0 Safari/537.36",
        "GET /api/v1/orders/48213/items/7 200 5123",
        "image sha256:ded056c0344a75a780180625be3fab72f6905b5712f829c9b2d1bff435031b1c",
        "pod checkout-7d9f8b6c5d-x2k4p host ip-10-0-1-23",
        "ssn 000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000",
        "phone 5551234567 bare digits",
        "iban DE89370400440532013001",              // mod 97 fails
        "not-an-email@localhost and user@example.c",
        "bearer token", "Bearer short",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "AKIAshort and XKIAIOSFODNN7EXAMPLE",
    ])
    func leavesAlone(_ input: String) {
        let result = redacted(input, .plain, with: redactor)
        #expect(result.output == input, "\(result.counts)")
    }

    @Test func validators() {
        #expect(RedactionValidators.luhn(Array("4111111111111111".utf8)))
        #expect(RedactionValidators.luhn(Array("4111 1111 1111 1111".utf8)))
        #expect(RedactionValidators.luhn(Array("79927398713".utf8)))
        #expect(!RedactionValidators.luhn(Array("4111111111111112".utf8)))
        #expect(!RedactionValidators.luhn(Array("79927398710".utf8)))
        #expect(RedactionValidators.ibanMod97(Array("DE89370400440532013000".utf8)))
        #expect(RedactionValidators.ibanMod97(Array("GB82WEST12345698765432".utf8)))
        #expect(RedactionValidators.ibanMod97(Array("FR1420041010050500013M02606".utf8)))
        #expect(!RedactionValidators.ibanMod97(Array("DE89370400440532013001".utf8)))
        #expect(!RedactionValidators.ibanMod97(Array("GB82WEST1234569876543".utf8)))
        #expect(RedactionValidators.isValidSSN(area: 123, group: 45, serial: 6789))
        #expect(RedactionValidators.isValidSSN(area: 899, group: 1, serial: 1))
        #expect(!RedactionValidators.isValidSSN(area: 0, group: 45, serial: 6789))
        #expect(!RedactionValidators.isValidSSN(area: 666, group: 45, serial: 6789))
        #expect(!RedactionValidators.isValidSSN(area: 900, group: 45, serial: 6789))
        #expect(!RedactionValidators.isValidSSN(area: 123, group: 0, serial: 6789))
        #expect(!RedactionValidators.isValidSSN(area: 123, group: 45, serial: 0))
    }

    @Test func jsonEscapesAreTokenBoundaries() {
        #expect(mask(#"line\n4111 1111 1111 1111\n"#, .jsonString) == #"line\n[REDACTED:credit_card]\n"#)
        #expect(mask(#"{\"to\":\"user@example.com\"}"#, .jsonString) == #"{\"to\":\"[REDACTED:email]\"}"#)
        #expect(mask(#"x\t123-45-6789\r"#, .jsonString) == #"x\t[REDACTED:us_ssn]\r"#)
        #expect(mask(#"\u00e9user@example.com"#, .jsonString) == #"\u00e9[REDACTED:email]"#)
        #expect(mask(#"\nuser@example.com"#, .jsonString) == #"\n[REDACTED:email]"#)
        // Outside JSON, `\n4111...` is a word: the card is not separated from the `n`.
        #expect(mask(#"\n4111111111111111"#, .plain) == #"\n4111111111111111"#)
        // An escaped backslash before `n` is a literal `n`: no boundary.
        #expect(mask(#"\\n4111111111111111"#, .jsonString) == #"\\n4111111111111111"#)
    }

    /// Fuzzing found an e-mail whose local part reaches back past the 64-byte limit starting inside
    /// a `\uXXXX` escape (Fuzz/Corpus/redact/email-start-inside-escape: this `log` value, escaped
    /// as the redact processor sees it): the replacement split the escape, and the event was no
    /// longer JSON.
    @Test func anEmailNeverStartsInsideAnEscape() throws {
        let text = #"\u0000"# + String(repeating: "G", count: 28) + "ows.netGzI1NiJ9.eyJzdWIiOiIxInet@e.ne"
        #expect(mask(text, .jsonString) == #"\u0000[REDACTED:email]"#)
        let partial = try redacted(text, .jsonString, rules: RedactionRules(mode: .partial))
        #expect(partial == #"\u0000[REDACTED:email]@e.ne"#)
        let string = try JSONSerialization.jsonObject(with: Data("\"\(partial)\"".utf8), options: .fragmentsAllowed)
        #expect(string as? String == "\u{0}[REDACTED:email]@e.ne")
    }

    @Test func nestedJSONInsideAStringField() throws {
        let line = #"{"log":"{\"user\":{\"email\":\"eva@example.com\",\"card\":\"4111111111111111\"},\"ip\":\"10.0.0.7\"}\n","stream":"stdout"}"#
        let output = mask(line, .jsonText)
        #expect(output == #"{"log":"{\"user\":{\"email\":\"[REDACTED:email]\",\"card\":\"[REDACTED:credit_card]\"},\"ip\":\"[REDACTED:ipv4]\"}\n","stream":"stdout"}"#)
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let inner = try JSONSerialization.jsonObject(with: Data((object?["log"] as? String ?? "").utf8)) as? [String: Any]
        #expect(inner?["ip"] as? String == "[REDACTED:ipv4]")
    }

    @Test func jsonNumberBecomesString() throws {
        let output = mask(#"{"pan":4111111111111111,"neg":-4111111111111111,"list":[5555555555554444],"s":"4111111111111111"}"#, .jsonText)
        #expect(output == #"{"pan":"[REDACTED:credit_card]","neg":"[REDACTED:credit_card]","list":["[REDACTED:credit_card]"],"s":"[REDACTED:credit_card]"}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(output.utf8)) is [String: Any])
    }

    @Test func privateKeyInsideJSONString() throws {
        let line = #"{"log":"key:\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBk\nAwEHoUQDQg==\n-----END EC PRIVATE KEY-----\nnext","n":1}"#
        let output = mask(line, .jsonText)
        #expect(output == #"{"log":"key:\n[REDACTED:private_key]\nnext","n":1}"#)
        // Truncated block: redacted up to the end of the string, the document stays valid.
        let truncated = mask(#"{"log":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN","n":1}"#, .jsonText)
        #expect(truncated == #"{"log":"[REDACTED:private_key]","n":1}"#)
    }

    @Test func awsSecretNextToKeyAndInJSON() {
        let text = #"{\"AccessKeyId\":\"ASIAY34FZKBOKMUTVV7A\",\"SecretAccessKey\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}"#
        let result = redacted(text, .jsonString, with: redactor)
        #expect(result.output == #"{\"AccessKeyId\":\"[REDACTED:aws_access_key]\",\"SecretAccessKey\":\"[REDACTED:aws_access_key]\"}"#)
        #expect(result.counts == ["aws_access_key": 2])
        let adjacent = redacted("keys AKIAIOSFODNN7EXAMPLE / wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY then user@example.com", .plain, with: redactor)
        #expect(adjacent.output == "keys [REDACTED:aws_access_key] / [REDACTED:aws_access_key] then [REDACTED:email]")
        #expect(adjacent.counts == ["aws_access_key": 2, "email": 1])
    }

    /// Fuzzing found the secret look-ahead after an access key taking a 40-character run that
    /// began at the `u` of `\u0000` (Fuzz/Corpus/redact/aws-secret-inside-escape: this `log` value,
    /// escaped as the redact processor sees it): the replacement split the escape. After a marker,
    /// the same could happen with any escape but an escaped quote.
    @Test func anAWSSecretNeverStartsInsideAnEscape() {
        let text = #"AKIAIOSFODNN7EXAMPLE\u0000GGGGG4fwpMeJf36POk6yJhtJf36POk6yJht"#
        #expect(mask(text, .jsonString) == #"[REDACTED:aws_access_key]\u0000GGGGG4fwpMeJf36POk6yJhtJf36POk6yJht"#)
        #expect(mask(#"aws_secret_access_key=\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\""#, .jsonString)
            == #"aws_secret_access_key=\"[REDACTED:aws_access_key]\""#)
        let escaped = #"aws_secret_access_key=\u0041"# + "abcdefghijABCDEFGHIJ0123456789abcde"
        #expect(mask(escaped, .jsonString) == escaped)
    }

    /// Fuzzing found a long digit run after an IPv6 prefix (`ab:11.2333…`, read as an embedded
    /// IPv4 tail) overflowing the octet and stopping the process on one log line
    /// (Fuzz/Corpus/redact/ipv6-long-ipv4-tail: this text).
    @Test func aLongDigitRunAfterAnIPv6PrefixIsNotAnOctet() {
        let text = "ab:11.2333333333333333333333333333333333"
        for context in [RedactionContext.plain, .jsonString, .jsonText] { #expect(!mask(text, context).contains("ipv6")) }
        #expect(mask("::ffff:10.1.2.3") == "[REDACTED:ipv6]")
    }

    @Test func countsPerDetector() {
        let text = "a@example.com b@example.org 10.0.0.1 10.0.0.2 4111111111111111 ssn 123-45-6789 Bearer abcdefgh12345678"
        let result = redacted(text, .plain, with: redactor)
        #expect(result.counts == ["email": 2, "ipv4": 2, "credit_card": 1, "us_ssn": 1, "bearer_token": 1])
        #expect(result.replaced == 7)
        // Counters accumulate across calls and follow detectorNames.
        var counts = [Int](repeating: 0, count: redactor.detectorNames.count)
        var output: [UInt8] = []
        for _ in 0..<3 {
            _ = Array(text.utf8).withUnsafeBytes { redactor.redact($0, context: .plain, into: &output, counts: &counts) }
        }
        #expect(counts[redactor.detectorNames.firstIndex(of: "email")!] == 6)
        #expect(counts.reduce(0, +) == 21)
    }

    @Test func onlySelectedDetectorsRun() throws {
        let emailOnly = try Redactor(rules: RedactionRules(detectors: [.email]))
        #expect(emailOnly.detectorNames == ["email"])
        let result = redacted("x@example.com 4111111111111111 10.0.0.1", .plain, with: emailOnly)
        #expect(result.output == "[REDACTED:email] 4111111111111111 10.0.0.1")
    }

    @Test func copyIsIndependentAndEquivalent() throws {
        let rules = RedactionRules(custom: [CustomDetector(name: "order", pattern: #"ORD-\d{4}"#)])
        let original = try Redactor(rules: rules)
        let copy = original.copy()
        #expect(copy.detectorNames == original.detectorNames)
        let text = "ORD-1234 for a@example.com"
        #expect(redacted(text, .plain, with: copy).output == redacted(text, .plain, with: original).output)
        #expect(redacted(text, .plain, with: copy).output == "[REDACTED:order] for [REDACTED:email]")
    }
}
