import Foundation
import LogBridgePipeline
import Testing

/// `url_credentials` with an empty user name, `url_query_secret` and `api_token`.
@Suite("Redaction of URL and token secrets")
struct RedactionSecretDetectorTests {
    let redactor = try! Redactor(rules: RedactionRules())
    /// Without `email` and `ipv6`, whose own matches would hide what these detectors did.
    let secretsOnly = try! Redactor(rules: RedactionRules(detectors: [.urlCredentials, .urlQuerySecret, .apiToken]))

    func mask(_ text: String, _ context: RedactionContext = .plain) -> String {
        redacted(text, context, with: redactor).output
    }

    static let ghp = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
    static let pat = "github_pat_11ABCDEFG0123456789abc_" + String(repeating: "xY7", count: 20)
    static let stripe = "sk_live_" + "51HqLyjWDarjtT1zdp7dcAbCdEf"
    static let slack = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
    static let google = "ya29.a0AfH6SMBx-Yz_0123456789abcdefGHIJ"

    @Test(arguments: [
        ("redis://:s3cr3tPass@cache:6379/0", "redis://:[REDACTED:url_credentials]@cache:6379/0"),
        ("dsn=amqp://:p4ss!word@mq.internal:5672/vhost", "dsn=amqp://:[REDACTED:url_credentials]@mq.internal:5672/vhost"),
        ("dsn=postgres://app:S3cr3t!@db.internal:5432/x", "dsn=postgres://app:[REDACTED:url_credentials]@db.internal:5432/x"),
        ("GET /cb?page=2&access_token=abc123XYZ&id=7 200", "GET /cb?page=2&access_token=[REDACTED:url_query_secret]&id=7 200"),
        ("https://h/x?API_KEY=0123456789abcdef#top", "https://h/x?API_KEY=[REDACTED:url_query_secret]#top"),
        ("https://maps.example.com/js?key=AIzaSyD-abcdefghijk", "https://maps.example.com/js?key=[REDACTED:url_query_secret]"),
        ("https://app/cb#access_token=opaque.value-1&token_type=Bearer", "https://app/cb#access_token=[REDACTED:url_query_secret]&token_type=Bearer"),
        ("/login?user=eva&password=hunter2 ", "/login?user=eva&password=[REDACTED:url_query_secret] "),
        ("/s3/o?X-Amz-Signature=9f86d081884c7d65&X-Amz-Date=20240501", "/s3/o?X-Amz-Signature=[REDACTED:url_query_secret]&X-Amz-Date=20240501"),
        ("<a href=\"/dl?a=1&amp;secret=xyz\">", "<a href=\"/dl?a=1&amp;secret=[REDACTED:url_query_secret]\">"),
        ("/hook?clientSecret=abcd&sig=00ff", "/hook?clientSecret=[REDACTED:url_query_secret]&sig=[REDACTED:azure_connection_string]"),
        ("token \(ghp) pushed", "token [REDACTED:api_token] pushed"),
        ("GITHUB_TOKEN=\(pat)", "GITHUB_TOKEN=[REDACTED:api_token]"),
        ("stripe key \(stripe).", "stripe key [REDACTED:api_token]."),
        ("slack=\(slack), ok", "slack=[REDACTED:api_token], ok"),
        ("auth \(google)", "auth [REDACTED:api_token]"),
        ("app xapp-1-A0123456789-0123456789012-abcdef0123", "app [REDACTED:api_token]"),
        ("https://x?access_token=\(google)&b=1", "https://x?access_token=[REDACTED:url_query_secret]&b=1"),
    ])
    func detects(_ input: String, _ expected: String) {
        #expect(mask(input) == expected)
    }

    @Test(arguments: [
        "http://host:8080/path?page=2&id=123&limit=50",
        "git@github.com:org/repo.git and ssh://git@github.com:22/org/repo",
        "https://user@example.com/path",
        "GET /repos/org/repo/commits/4bf92f3577b34da6a3ce929d0e0e47364bf92f35?per_page=100",
        "/api/v1/users/550e8400-e29b-41d4-a716-446655440000/orders/48213?trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
        "?token_type=Bearer&expires_in=3600&pageToken=CAoQAA&next_token=abc&state=xyz",
        "password=hunter2 in logfmt is not a query parameter",
        "https://h/?token=&id=1",
        "disk_live_bytes=1024 task_test_run=ok ghp_short gh_token github.com/org",
        "xoxo-hugs and xoxb- and ya29. and sk_live_short",
        "https://[2001:db8::1]:8443/x http://:8080/ redis://cache:6379/0",
    ])
    func leavesAlone(_ input: String) {
        let result = redacted(input, .plain, with: secretsOnly)
        #expect(result.output == input, "\(result.counts)")
    }

    /// URLs inside JSON: slashes escaped once (`\/`) or inside a string of a string (`\\\/`), the
    /// value ending at the escaped quote, and `&` written as `\u0026` (.NET's encoder).
    @Test func urlsInsideJSONStrings() throws {
        let line = #"{"log":"{\"dsn\":\"redis:\\\/\\\/:pw0rd!@cache:6379\\\/0\",\"url\":\"https:\\\/\\\/h\\\/cb?a=1\\u0026api_key=k3y\\u0026b=2\",\"u2\":\"https:\/\/h\/x?token=tok9\"}","stream":"stdout"}"#
        let output = mask(line, .jsonText)
        #expect(output == #"{"log":"{\"dsn\":\"redis:\\\/\\\/:[REDACTED:url_credentials]@cache:6379\\\/0\",\"url\":\"https:\\\/\\\/h\\\/cb?a=1\\u0026api_key=[REDACTED:url_query_secret]\\u0026b=2\",\"u2\":\"https:\/\/h\/x?token=[REDACTED:url_query_secret]\"}","stream":"stdout"}"#)
        _ = try JSONSerialization.jsonObject(with: Data(output.utf8))
        #expect(mask(#"redis:\/\/:pw@h\/0 and \"https:\/\/h\/?sig=abc123\" \u0026token=t0k"#, .jsonString)
            == #"redis:\/\/:[REDACTED:url_credentials]@h\/0 and \"https:\/\/h\/?sig=[REDACTED:azure_connection_string]\" \u0026token=[REDACTED:url_query_secret]"#)
        #expect(mask(#"{\"t\":\"\#(Self.ghp)\"}\n\#(Self.slack)"#, .jsonString) == #"{\"t\":\"[REDACTED:api_token]\"}\n[REDACTED:api_token]"#)
    }

    @Test func eachDetectorCanBeTurnedOff() throws {
        let none = try Redactor(rules: RedactionRules(detectors: [.email, .azureConnectionString]))
        let text = "redis://:pw@h/0 ?token=abc \(Self.ghp) ?sig=xyz123"
        #expect(redacted(text, .plain, with: none).output == "redis://:pw@h/0 ?token=abc \(Self.ghp) ?sig=[REDACTED:azure_connection_string]")
        let queryOnly = try Redactor(rules: RedactionRules(detectors: [.urlQuerySecret]))
        #expect(redacted("?sig=xyz123&token=\(Self.ghp)", .plain, with: queryOnly).output == "?sig=[REDACTED:url_query_secret]&token=[REDACTED:url_query_secret]")
        // A `sig=` too short for the Azure detector is still a secret-named parameter.
        #expect(try redacted("?sig=ab&x=1") == "?sig=[REDACTED:url_query_secret]&x=1")
        let tokenOnly = try Redactor(rules: RedactionRules(detectors: [.apiToken]))
        #expect(redacted("?token=\(Self.ghp)", .plain, with: tokenOnly).output == "?token=[REDACTED:api_token]")
    }

    /// Hostile input around the new anchors: no crash, linear time, escapes never split.
    @Test func adversarialInputAroundTheNewAnchors() {
        let pieces = ["?token=", "&", "\\u0026key=", "&amp;secret=", "://", ":\\/\\/", ":@", "ghp_", "github_pat_", "sk_live_",
                      "xoxb-", "ya29.", "\\", "\"", "a", "0", "-", "="]
        var random = SystemRandomNumberGenerator()
        var text = ""
        while text.utf8.count < 1 << 18 { text += pieces[Int(random.next() % UInt64(pieces.count))] }
        for context in [RedactionContext.plain, .jsonString, .jsonText] {
            let started = ContinuousClock.now
            let output = redacted(text, context, with: redactor).output
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(!output.isEmpty)
        }
        // A valid JSON string body stays valid after redaction.
        var body: [UInt8] = []
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": body += Array(#"\""#.utf8)
            case "\\": body += Array(#"\\"#.utf8)
            default: body += Array(String(scalar).utf8)
            }
        }
        let output = redacted(String(decoding: body, as: UTF8.self), .jsonString, with: redactor).output
        #expect((try? JSONSerialization.jsonObject(with: Data("\"\(output)\"".utf8), options: .fragmentsAllowed)) != nil)
    }
}
