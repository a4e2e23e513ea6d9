/// Labelled lines for the secret families the main corpus does not carry: credentials in URL
/// userinfo with an empty user name (`redis://:PASSWORD@host:6379/0`), secrets in URL query
/// strings, and well-known token formats standing alone.
///
/// Each line places its URL or token in one of five framings, so the same value is met as the
/// redactor meets it in production: a plain (CRI) line; a Fluent Bit record whose `log` is that
/// text; the same with an encoder that escapes `/` (`https:\/\/`); a Fluent Bit record whose
/// `log` is an application's JSON line holding the URL in a string (escaped twice: `\"`,
/// `\\/` or `\\\/`, `\\u0026`); an application's JSON line on its own. Every line also carries decoys
/// that must survive: trace ids, UUIDs, git SHAs and ids in paths, `page=`/`id=` parameters,
/// pagination tokens, `host:port` URLs and identifiers that start like a token prefix.
extension PIICorpus {
    /// Kinds in ``Line/piiKinds`` of ``generateURLSecrets(count:seed:)``.
    public static let urlSecretKinds = [
        "url_userinfo_empty_user", "query_github", "query_stripe", "query_slack", "query_google", "query_opaque", "query_hex",
        "token_github", "token_github_pat", "token_stripe", "token_slack", "token_google",
    ]

    /// Generates `count` lines, each with one or two positives (one line in ten with none);
    /// the same arguments give the same lines.
    public static func generateURLSecrets(count: Int, seed: UInt64 = 15) -> [Line] {
        var generator = URLSecretCorpusGenerator(seed: seed)
        return (0..<count).map { _ in generator.line() }
    }
}

/// Builds lines; see ``PIICorpus/generateURLSecrets(count:seed:)``.
struct URLSecretCorpusGenerator {
    var random: SeededRandom
    var pii: [(detector: String, value: String)] = []
    var kinds: [String] = []
    var decoys: [String] = []
    var decoyKinds: [String] = []

    init(seed: UInt64) { random = SeededRandom(state: seed) }

    static let alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    static let lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    static let secretNames = [
        "token", "access_token", "api_key", "apikey", "apiKey", "key", "password", "secret", "client_secret", "auth_token",
        "sig", "signature", "X-Amz-Signature", "accessToken", "refresh_token", "private_token",
    ]
    static let hosts = ["api.example.com", "payments.internal", "hooks.example.org", "storage.example.net", "auth.example.io"]

    /// How the innermost text appears in the line: JSON string escaping is a per-character map,
    /// so a value's image is found in the line's text as is.
    enum Framing: CaseIterable {
        case plain, record, recordEscapedSlashes, recordWithAppJSON, appJSON
    }

    /// The application's JSON encoder, for the framings that have one.
    enum AppEncoder: CaseIterable {
        case plain  // Go, Python, Jackson
        case escapedSlashes  // PHP json_encode
        case escapedAmpersand  // .NET System.Text.Json (JavaScriptEncoder.Default)
    }

    mutating func line() -> PIICorpus.Line {
        pii = []
        kinds = []
        decoys = []
        decoyKinds = []
        let framing = random.pick(Framing.allCases)
        let encoder = random.pick(AppEncoder.allCases)
        // Each piece is innermost text, plus the (kind, detector, value) and (kind, value) marks
        // it carries; marks are mapped through the framing once the line is built.
        var pieces: [(text: String, positives: [(String, String, String)], decoys: [(String, String)])] = []
        let positives = random.chance(0.1) ? 0 : (random.chance(0.25) ? 2 : 1)
        for _ in 0..<positives { pieces.append(positivePiece(random.pick(PIICorpus.urlSecretKinds))) }
        for _ in 0..<random.int(1...2) { pieces.append(decoyPiece()) }
        // Shuffle deterministically.
        for i in stride(from: pieces.count - 1, to: 0, by: -1) { pieces.swapAt(i, random.int(0...i)) }

        let inner: (String) -> String
        let text: String
        let isJSON: Bool
        let level = random.pick(["info", "warn", "error", "debug"])
        switch framing {
        case .plain:
            inner = { $0 }
            text = "2024-05-01T10:00:\(random.int(10...59)).\(random.digits(6))Z stdout F " + pieces.map(\.text).joined(separator: " ")
            isJSON = false
        case .record, .recordEscapedSlashes:
            let slashes = framing == .recordEscapedSlashes
            inner = { Self.escape($0, slashes: slashes, ampersand: false) }
            let log = pieces.map(\.text).joined(separator: " ")
            text = record(log: Self.escape(log, slashes: slashes, ampersand: false))
            isJSON = true
        case .recordWithAppJSON:
            let app = appJSON(pieces.map(\.text), level: level, encoder: encoder)
            let slashes = random.chance(0.3)  // the shipper's encoder may escape `/` too
            inner = { Self.escape(Self.escape($0, encoder), slashes: slashes, ampersand: false) }
            text = record(log: Self.escape(app, slashes: slashes, ampersand: false))
            isJSON = true
        case .appJSON:
            inner = { Self.escape($0, encoder) }
            text = appJSON(pieces.map(\.text), level: level, encoder: encoder)
            isJSON = true
        }
        for piece in pieces {
            for (kind, detector, value) in piece.positives {
                pii.append((detector, inner(value)))
                kinds.append(kind)
            }
            for (kind, value) in piece.decoys {
                decoys.append(inner(value))
                decoyKinds.append(kind)
            }
        }
        return PIICorpus.Line(text: text, pii: pii, piiKinds: kinds, decoys: decoys, decoyKinds: decoyKinds, isJSON: isJSON)
    }

    // MARK: Framing

    static func escape(_ s: String, _ encoder: AppEncoder) -> String {
        escape(s, slashes: encoder == .escapedSlashes, ampersand: encoder == .escapedAmpersand)
    }

    /// The body of a JSON string holding `s`.
    static func escape(_ s: String, slashes: Bool, ampersand: Bool) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "/" where slashes: out += "\\/"
            case "&" where ampersand: out += "\\u0026"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A Fluent Bit record around an already escaped `log` body.
    mutating func record(log: String) -> String {
        let pod = "gateway-\(random.string(10, from: "bcdfghjklmnpqrstvwxz2456789"))-\(random.string(5, from: "bcdfghjklmnpqrstvwxz2456789"))"
        return #"{"log":"\#(log)","stream":"stdout","time":"2024-05-01T10:00:00.\#(random.digits(9))Z","kubernetes":{"pod_name":"\#(pod)","namespace_name":"edge"}}"#
    }

    /// An application's JSON line: the first piece is the message, the others fields.
    mutating func appJSON(_ texts: [String], level: String, encoder: AppEncoder) -> String {
        var members = [#""level":"\#(level)""#, #""ts":"2024-05-01T10:00:00.\#(random.digits(3))Z""#]
        for (i, text) in texts.enumerated() {
            members.append(#""\#(i == 0 ? "msg" : "detail\(i)")":"\#(Self.escape(text, encoder))""#)
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    // MARK: Positives

    mutating func positivePiece(_ kind: String) -> (text: String, positives: [(String, String, String)], decoys: [(String, String)]) {
        switch kind {
        case "url_userinfo_empty_user":
            let password = random.string(random.int(12...32), from: Self.alnum + "-_.~!*")
            let (scheme, port, path) = random.pick([("redis", 6379, "/0"), ("rediss", 6380, "/1"), ("amqp", 5672, "/vhost"),
                                                    ("mongodb", 27017, "/orders"), ("postgres", 5432, "/app"), ("memcached", 11211, "")])
            let url = "\(scheme)://:\(password)@\(scheme)-\(random.int(0...9)).cache.internal:\(port)\(path)"
            let text = random.pick(["connecting to \(url)", "REDIS_URL=\(url)", "dsn=\"\(url)\" retry=3", "broker \(url) unreachable"])
            return (text, [(kind, "url_credentials", password)], [])
        case let query where query.hasPrefix("query_"):
            let value = secretValue(String(query.dropFirst("query_".count)))
            let name = random.pick(Self.secretNames)
            let (url, decoys) = urlWithSecret(name: name, value: value)
            return (requestText(url), [(kind, "url_query_secret", value)], decoys)
        default:
            let value = secretValue(String(kind.dropFirst("token_".count)))
            let text = random.pick([
                "export GITHUB_TOKEN=\(value)", "using token \(value) for org", "slack_bot_token: \(value)",
                "Authorization: token \(value)", "config {\"api_key\": \"\(value)\"} loaded", "leaked credential (\(value)) rotated",
            ])
            return (text, [(kind, "api_token", value)], [])
        }
    }

    mutating func secretValue(_ format: String) -> String {
        switch format {
        case "github":
            return random.pick(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + random.string(36, from: Self.alnum)
        case "github_pat":
            return "github_pat_" + random.string(22, from: Self.alnum) + "_" + random.string(59, from: Self.alnum)
        case "stripe":
            return random.pick(["sk_live_", "rk_live_", "sk_test_", "rk_test_"]) + random.string(random.pick([24, 99]), from: Self.alnum)
        case "slack":
            let prefix = random.pick(["xoxb", "xoxp", "xoxa", "xoxr"])
            return "\(prefix)-\(random.digits(12))-\(random.digits(13))-" + random.string(24, from: Self.alnum)
        case "google":
            return "ya29." + random.string(random.int(100...180), from: Self.alnum + "-_")
        case "hex":
            return random.hex(random.pick([32, 40, 64]))
        default:  // opaque
            if random.chance(0.3) {
                let raw = PIICorpusBase64.encode(random.bytes(32), url: false)
                return raw.piiReplacing("+", "%2B").piiReplacing("/", "%2F").piiReplacing("=", "%3D")
            }
            return random.string(random.int(16...64), from: Self.alnum + "-_.~")
        }
    }

    /// A URL with `name=value` among ordinary parameters, first or not, in the query or (for
    /// an access token) in the fragment, as OAuth's implicit flow returns it.
    mutating func urlWithSecret(name: String, value: String) -> (String, [(String, String)]) {
        var decoys: [(String, String)] = []
        var params: [String] = []
        for _ in 0..<random.int(0...3) {
            let param = ordinaryParameter()
            params.append(param.text)
            decoys.append(contentsOf: param.decoys)
        }
        params.insert("\(name)=\(value)", at: random.int(0...params.count))
        let (path, pathDecoys) = pathWithIDs()
        decoys.append(contentsOf: pathDecoys)
        let host = random.pick(Self.hosts)
        let separator = name == "access_token" && random.chance(0.3) ? "#" : "?"
        return ("https://\(host)\(path)\(separator)\(params.joined(separator: "&"))", decoys)
    }

    mutating func requestText(_ url: String) -> String {
        let status = random.pick([200, 302, 401, 403, 500])
        return random.pick([
            "\"GET \(url) HTTP/1.1\" \(status) \(random.int(100...9999))",
            "request failed url=\(url) status=\(status)",
            "redirecting to \(url)",
            "webhook \(url) took \(random.int(1...900))ms",
        ])
    }

    // MARK: Decoys

    mutating func ordinaryParameter() -> (text: String, decoys: [(String, String)]) {
        switch random.int(0...5) {
        case 0:
            let text = "page=\(random.int(1...40))"
            return (text, [("page_param", text)])
        case 1:
            let text = "id=\(random.int(1...99_999))"
            return (text, [("id_param", text)])
        case 2:
            let trace = random.hex(32)
            return ("trace_id=\(trace)", [("trace_id", trace)])
        case 3:
            let token = "pageToken=" + random.string(1, from: "abcdefghijklmnopqrstuvwxyz") + random.string(23, from: Self.lowerAlnum)
            return (token, [("page_token", token)])
        case 4:
            return ("token_type=Bearer", [("token_type", "token_type=Bearer")])
        default:
            return ("limit=\(random.int(10...100))", [])
        }
    }

    mutating func pathWithIDs() -> (String, [(String, String)]) {
        switch random.int(0...2) {
        case 0:
            let sha = random.hex(40)
            return ("/repos/org/app/commits/\(sha)", [("git_sha", sha)])
        case 1:
            let uuid = "\(random.hex(8))-\(random.hex(4))-4\(random.hex(3))-\(random.pick(["8", "9", "a", "b"]))\(random.hex(3))-\(random.hex(12))"
            return ("/v1/users/\(uuid)/sessions", [("uuid", uuid)])
        default:
            let path = "/api/v1/orders/\(random.int(10_000...99_999))/items/\(random.int(1...20))"
            return (path, [("path_ids", path)])
        }
    }

    /// Text that must come out unchanged, ids and look-alikes in plain sight.
    mutating func decoyPiece() -> (text: String, positives: [(String, String, String)], decoys: [(String, String)]) {
        switch random.int(0...4) {
        case 0:
            let param = ordinaryParameter()
            let (path, pathDecoys) = pathWithIDs()
            let url = "https://\(random.pick(Self.hosts))\(path)?\(param.text)"
            return ("GET \(url) 200", [], pathDecoys + param.decoys)
        case 1:
            let url = "http://\(random.pick(["orders-api", "ledger", "search"])):\(random.pick([8080, 9200, 3000]))/healthz"
            return ("probe \(url) ok", [], [("host_port_url", url)])
        case 2:
            let trace = random.hex(32), span = random.hex(16)
            let text = "traceparent=00-\(trace)-\(span)-01"
            return (text, [], [("trace_id", trace), ("span_id", span)])
        case 3:
            let words = random.pick(["disk_live_bytes=\(random.int(1...999))", "task_test_runs=\(random.int(1...9))",
                                     "ghost_mode=off", "xoxo-hugs", "ya29 clients", "sk_live_short"])
            return ("gauge \(words)", [], [("lookalike", words)])
        default:
            let sha = random.hex(40)
            return ("deployed commit \(sha)", [], [("git_sha", sha)])
        }
    }
}
