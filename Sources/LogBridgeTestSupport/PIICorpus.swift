/// Deterministic Kubernetes-style log lines with known PII and known look-alikes, shared by the
/// redaction tests (recall, decoy preservation) and benchmarks (throughput on realistic bytes).
///
/// Lines are mostly Fluent Bit-style JSON records (~300 bytes) whose `log` field holds plain text
/// (nginx access lines, Java and Go application logs, logfmt) or escaped JSON, plus some non-JSON
/// lines (CRI and syslog framing). A `piiFraction` of the lines carry one or two generated, valid
/// values (Luhn-valid cards, valid SSNs, mod-97-valid IBANs, ...). Every line carries decoys that
/// must survive redaction: Luhn-failing order numbers, UUIDs, trace and span ids, timestamps,
/// epochs, versions, paths with ids, durations, image digests, pod names.
public struct PIICorpus: Sendable {
    public struct Line: Sendable {
        public var text: String
        /// Detector name and the value as it appears in `text`. Values contain no character JSON
        /// escapes, except `private_key` values in JSON lines, which are stored escaped (`\n`).
        public var pii: [(detector: String, value: String)]
        /// A finer label per ``pii`` entry, for recall per kind (`query_github`, ...); the
        /// detector name where the generator has no finer one.
        public var piiKinds: [String]
        public var decoys: [String]
        /// The kind of each decoy (`order_number`, `uuid`, ...), parallel to `decoys`.
        public var decoyKinds: [String]
        public var isJSON: Bool

        public init(
            text: String, pii: [(detector: String, value: String)], piiKinds: [String]? = nil, decoys: [String], decoyKinds: [String],
            isJSON: Bool
        ) {
            self.text = text
            self.pii = pii
            self.piiKinds = piiKinds ?? pii.map(\.detector)
            self.decoys = decoys
            self.decoyKinds = decoyKinds
            self.isJSON = isJSON
        }
    }

    /// Detector names used in ``Line/pii`` (the redaction built-in detector names).
    public static let detectorNames = [
        "email", "credit_card", "ipv4", "ipv6", "us_ssn", "phone", "iban", "jwt", "bearer_token",
        "azure_connection_string", "aws_access_key", "url_credentials", "private_key",
    ]

    /// Generates `count` lines; the same arguments give the same lines.
    public static func generate(count: Int, seed: UInt64 = 42, piiFraction: Double = 0.2) -> [Line] {
        var generator = PIICorpusGenerator(seed: seed)
        return (0..<count).map { _ in generator.line(piiFraction: piiFraction) }
    }
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for test data; the same numbers
/// for the same seed on every run.
public struct SeededRandom: Sendable {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func string(_ count: Int, from alphabet: String) -> String {
        let chars = Array(alphabet)
        return String((0..<count).map { _ in pick(chars) })
    }

    mutating func digits(_ count: Int) -> String { string(count, from: "0123456789") }
    mutating func hex(_ count: Int) -> String { string(count, from: "0123456789abcdef") }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

enum PIICorpusBase64 {
    static func encode(_ bytes: [UInt8], url: Bool) -> String {
        let table = Array(url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                              : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(table[n >> 18 & 63])
            out.append(table[n >> 12 & 63])
            if i + 1 < bytes.count { out.append(table[n >> 6 & 63]) } else if !url { out.append("=") }
            if i + 2 < bytes.count { out.append(table[n & 63]) } else if !url { out.append("=") }
            i += 3
        }
        return out
    }
}

/// Builds lines; see ``PIICorpus``.
struct PIICorpusGenerator {
    var random: SeededRandom
    var pii: [(detector: String, value: String)] = []
    var decoys: [String] = []
    var decoyKinds: [String] = []
    var clock: Int = 1_714_557_600  // 2024-05-01T10:00:00Z

    init(seed: UInt64) { random = SeededRandom(state: seed) }

    static let apps = ["checkout", "payments", "orders", "auth", "catalog", "notifier", "gateway", "ledger"]
    static let namespaces = ["shop-prod", "payments", "platform", "default", "data-pipeline"]
    static let firstNames = ["anna", "bob", "chen", "dmitri", "eva", "farah", "giulia", "hiro", "ines", "jon", "kofi", "lena"]
    static let lastNames = ["schmidt", "smith", "wang", "ivanov", "garcia", "khan", "rossi", "tanaka", "silva", "berg"]
    static let domains = ["example.com", "corp.example.org", "mail.example.co.uk", "shop.example.io", "contoso.net"]

    // MARK: Line assembly

    mutating func line(piiFraction: Double) -> PIICorpus.Line {
        pii = []
        decoys = []
        decoyKinds = []
        clock += random.int(0...3)
        let isJSON = random.chance(0.85)
        var fragments: [(text: String, jsonField: (String, String)?)] = []
        if random.chance(piiFraction) {
            for _ in 0..<(random.chance(0.25) ? 2 : 1) {
                fragments.append(piiFragment(random.pick(PIICorpus.detectorNames), jsonLine: isJSON))
            }
        }
        let inner = innerLog(fragments, allowJSON: isJSON)
        let text: String
        if isJSON {
            text = record(log: inner)
        } else {
            let framing = random.int(0...1)
            text = framing == 0 ? "\(timestamp()) stdout F \(inner)"
                                : "May  1 10:\(two(random.int(0...59))):\(two(random.int(0...59))) node-\(random.int(1...9)) kubelet[\(random.int(900...9999))]: \(inner)"
        }
        return PIICorpus.Line(text: text, pii: pii, decoys: decoys, decoyKinds: decoyKinds, isJSON: isJSON)
    }

    mutating func decoy(_ kind: String, _ value: String) -> String {
        decoys.append(value)
        decoyKinds.append(kind)
        return value
    }

    func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    mutating func timestamp() -> String {
        let s = clock % 86_400
        return "2024-05-01T\(two(s / 3600 % 24)):\(two(s / 60 % 60)):\(two(s % 60)).\(random.digits(6))Z"
    }

    /// The Fluent Bit record around a `log` value.
    mutating func record(log: String) -> String {
        let app = random.pick(Self.apps)
        let pod = decoy("pod_name", "\(app)-\(random.string(10, from: "bcdfghjklmnpqrstvwxz2456789"))-\(random.string(5, from: "bcdfghjklmnpqrstvwxz2456789"))")
        let version = decoy("semver", "\(random.int(1...3)).\(random.int(0...30)).\(random.int(0...12))")
        let digest = decoy("image_digest", "sha256:\(random.hex(64))")
        var fields = [
            "\"log\":\(jsonString(log))",
            "\"stream\":\"\(random.chance(0.8) ? "stdout" : "stderr")\"",
            "\"time\":\"\(decoy("timestamp", timestamp()))\"",
            "\"kubernetes\":{\"pod_name\":\"\(pod)\",\"namespace_name\":\"\(random.pick(Self.namespaces))\",\"pod_id\":\"\(decoy("uuid", uuid()))\",\"host\":\"ip-10-0-\(random.int(0...9))-\(random.int(2...250))\",\"container_name\":\"\(app)\",\"container_image\":\"shop/\(app):\(version)\",\"container_hash\":\"\(digest)\",\"labels\":{\"app\":\"\(app)\"}}",
        ]
        if let card = pendingJSONNumberCard {
            fields.append("\"payment\":{\"pan\":\(card),\"amount_cents\":\(random.int(100...99_999))}")
            pendingJSONNumberCard = nil
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    var pendingJSONNumberCard: String? = nil

    func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += "\\u00" + String(scalar.value, radix: 16).piiLeftPad(2) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// Plain-text or JSON application log carrying the PII fragments.
    mutating func innerLog(_ fragments: [(text: String, jsonField: (String, String)?)], allowJSON: Bool) -> String {
        let kind = random.int(0...4)
        // Registered as decoys only by the templates that use them.
        let traceValue = random.hex(32)
        let spanValue = random.hex(16)
        let pathValue = "/api/v1/orders/\(random.int(10_000...99_999))/items/\(random.int(1...20))"
        let durationValue = random.chance(0.5) ? "\(random.int(1...999))ms" : "\(random.int(0...9)).\(random.int(100...999))s"
        let orderValue = luhnFailing(16)
        let text = innerTemplate(kind, fragments, allowJSON: allowJSON, trace: traceValue, span: spanValue,
                                 orderPath: pathValue, duration: durationValue, order: orderValue)
        for (decoyKind, value) in [("trace_id", traceValue), ("span_id", spanValue), ("path", pathValue),
                                   ("duration", durationValue), ("order_number", orderValue)] where text.contains(value) {
            _ = decoy(decoyKind, value)
        }
        return text
    }

    mutating func innerTemplate(
        _ kind: Int, _ fragments: [(text: String, jsonField: (String, String)?)], allowJSON: Bool,
        trace: String, span: String, orderPath: String, duration: String, order: String
    ) -> String {
        let texts = fragments.map(\.text)
        let level = random.pick(["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"])
        let extra = texts.isEmpty ? "" : " " + texts.joined(separator: " ")
        let suffix = random.chance(0.3) ? "\n" : ""
        switch kind {
        case 0:
            // nginx access line; the client address is PII only on PII lines.
            let status = random.pick(["200", "201", "204", "301", "404", "500", "503"])
            let bytes = decoy("bytes", "\(random.int(100_000...999_999))")
            return "\(texts.isEmpty ? "-" : "proxy") - - [01/May/2024:10:\(two(random.int(0...59))):\(two(random.int(0...59))) +0000] \"GET \(orderPath)?trace=\(trace) HTTP/1.1\" \(status) \(bytes) \"-\" \"Mozilla/5.0 (X11; Linux x86_64) Chrome/124.0.0.0\" rt=\(duration)\(extra)\(suffix)"
        case 1:
            let epoch = decoy("epoch13", "\(clock)\(random.digits(3))")
            return "\(timestamp().piiJavaTimestamp()) \(level) [\(Self.apps[random.int(0...7)]),\(trace),\(span)] c.e.shop.OrderController : Processing order \(order) created_at=\(epoch) took \(duration)\(extra)\(suffix)"
        case 2:
            let rv = decoy("resource_version", "\(random.int(10_000_000...99_999_999))")
            let epoch = decoy("epoch10", "\(clock)")
            return "level=\(level.lowercased()) ts=\(epoch) caller=handler.go:\(random.int(10...400)) msg=\"request done\" method=GET path=\(orderPath) status=200 duration=\(duration) resource_version=\(rv) trace_id=\(trace)\(extra)\(suffix)"
        case 3 where allowJSON:
            // Escaped JSON application log.
            var members = [
                "\"level\":\"\(level.lowercased())\"",
                "\"ts\":\(clock).\(random.digits(3))",
                "\"msg\":\"payment step\"",
                "\"order_id\":\"\(order)\"",
                "\"trace_id\":\"\(trace)\"",
                "\"span_id\":\"\(span)\"",
                "\"uid\":\"\(decoy("uuid", uuid()))\"",
            ]
            for fragment in fragments {
                if let (key, value) = fragment.jsonField {
                    members.append("\"\(key)\":\(value)")
                } else {
                    members.append("\"detail\":\(jsonString(fragment.text))")
                }
            }
            return "{" + members.joined(separator: ",") + "}" + suffix
        default:
            let version = decoy("semver", "v\(random.int(1...3)).\(random.int(0...30)).\(random.int(0...12))")
            return "\(timestamp()) \(level) worker=\(random.int(1...16)) build=\(version) job \(decoy("uuid", uuid())) finished in \(duration) order=\(order) path=\(orderPath)\(extra)\(suffix)"
        }
    }

    // MARK: PII

    /// One PII phrase: text form and, where it reads naturally, a JSON member form.
    mutating func piiFragment(_ detector: String, jsonLine: Bool) -> (text: String, jsonField: (String, String)?) {
        func record(_ value: String) -> String { pii.append((detector, value)); return value }
        let afterNewline = random.chance(0.15)
        var text: String
        var field: (String, String)? = nil
        switch detector {
        case "email":
            let v = record(email())
            text = random.pick(["user=\(v)", "sent receipt to \(v)", "<\(v)>", "from:\(v),"])
            field = ("email", "\"\(v)\"")
        case "credit_card":
            let v = card()
            if jsonLine && pendingJSONNumberCard == nil && !v.contains(" ") && !v.contains("-") && random.chance(0.3) {
                pendingJSONNumberCard = record(v)
                return ("card on file", nil)
            }
            _ = record(v)
            text = random.pick(["card=\(v)", "charging card \(v) amount=1299", "pan: \(v);"])
            field = ("card_number", "\"\(v)\"")
        case "ipv4":
            let v = record(ipv4())
            text = random.pick(["client=\(v)", "from \(v):\(random.int(1024...65535))", "upstream \(v) failed", "x-forwarded-for: \(v)"])
            field = ("client_ip", "\"\(v)\"")
        case "ipv6":
            let v = record(ipv6())
            text = random.pick(["client=[\(v)]:443", "remote_addr=\(v)", "peer \(v) reset"])
            field = ("client_ip", "\"\(v)\"")
        case "us_ssn":
            let v = record(ssn())
            text = random.pick(["ssn=\(v)", "SSN \(v) verified", "tax id: \(v)"])
            field = ("ssn", "\"\(v)\"")
        case "phone":
            let v = record(phone())
            text = random.pick(["phone=\(v)", "calling \(v) now", "tel: \(v)"])
            field = ("phone", "\"\(v)\"")
        case "iban":
            let v = record(iban())
            text = random.pick(["iban=\(v)", "payout to \(v) queued", "account: \(v)"])
            field = ("iban", "\"\(v)\"")
        case "jwt":
            let v = record(jwt())
            text = random.pick(["id_token=\(v)", "token \(v) expired", "jwt: \(v)"])
            field = ("id_token", "\"\(v)\"")
        case "bearer_token":
            let v = record(random.chance(0.3) ? jwt() : random.string(random.int(24...48), from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"))
            text = random.pick(["Authorization: Bearer \(v)", "auth=\"Bearer \(v)\"", "header authorization=bearer \(v)"])
            field = ("authorization", "\"Bearer \(v)\"")
        case "azure_connection_string":
            let form = random.int(0...2)
            if form == 0 {
                let v = record(PIICorpusBase64.encode(random.bytes(32), url: false))
                text = "conn=\"Endpoint=sb://ns\(random.int(1...99)).servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=\(v)\""
                field = ("connection", "\"Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=\(v)\"")
            } else if form == 1 {
                let v = record(PIICorpusBase64.encode(random.bytes(64), url: false))
                text = "storage DefaultEndpointsProtocol=https;AccountName=acct\(random.int(1...99));AccountKey=\(v);EndpointSuffix=core.windows.net"
                field = ("storage", "\"DefaultEndpointsProtocol=https;AccountName=logs;AccountKey=\(v);EndpointSuffix=core.windows.net\"")
            } else {
                let raw = PIICorpusBase64.encode(random.bytes(32), url: false)
                let v = record(raw.piiReplacing("+", "%2B").piiReplacing("/", "%2F").piiReplacing("=", "%3D"))
                text = "GET https://acct.blob.core.windows.net/logs/app.log?sv=2022-11-02&ss=b&srt=o&sp=r&se=2024-06-01T00:00:00Z&sig=\(v) 403"
                field = ("sas_url", "\"https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=\(v)&se=2024-06-01\"")
            }
        case "aws_access_key":
            let key = (random.pick(["AKIA", "ASIA", "AIDA", "AROA"])) + random.string(16, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            let form = random.int(0...2)
            _ = record(key)
            if form == 0 {
                let secret = record(awsSecret())
                text = "aws_access_key_id=\(key) aws_secret_access_key=\(secret)"
                field = ("credentials", "{\"AccessKeyId\":\"\(key)\",\"SecretAccessKey\":\"\(secret)\"}")
            } else if form == 1 {
                let secret = record(awsSecret())
                text = "assumed role, keys \(key) / \(secret)"
                field = ("AccessKeyId", "\"\(key)\",\"SecretAccessKey\":\"\(secret)\"")
            } else {
                text = "using access key \(key)"
                field = ("access_key_id", "\"\(key)\"")
            }
        case "url_credentials":
            let password = record(random.string(random.int(10...20), from: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!*~_-"))
            let scheme = random.pick(["postgres", "mysql", "redis", "amqp", "https", "mongodb"])
            let v = "\(scheme)://\(random.pick(["app", "svc_orders", "admin", "reader"])):\(password)@db-\(random.int(1...9)).prod.internal:\(random.int(1000...9999))/orders"
            text = random.pick(["connecting to \(v)", "dsn=\(v)", "retrying \(v) in 5s"])
            field = ("dsn", "\"\(v)\"")
        default:  // private_key
            let kind = random.pick(["RSA ", "EC ", "", "OPENSSH "])
            var body: [String] = []
            for _ in 0..<random.int(4...10) { body.append(PIICorpusBase64.encode(random.bytes(48), url: false)) }
            let pem = "-----BEGIN \(kind)PRIVATE KEY-----\n" + body.joined(separator: "\n") + "\n-----END \(kind)PRIVATE KEY-----"
            // Stored as it appears in the line: JSON lines escape the newlines once.
            pii.append((detector, jsonLine ? pem.piiReplacing("\n", "\\n") : pem))
            text = "loaded signing key:\n\(pem)"
            return (text, nil)  // not placed inside nested JSON (it would be escaped twice)
        }
        if afterNewline { text = "\n" + text }
        return (text, field)
    }

    mutating func email() -> String {
        let first = random.pick(Self.firstNames), last = random.pick(Self.lastNames)
        let local = random.pick(["\(first).\(last)", "\(first)_\(last)\(random.int(1...99))", "\(first)+logs", "\(first.prefix(1))\(last)"])
        return "\(local)@\(random.pick(Self.domains))"
    }

    mutating func luhnDigit(_ partial: String) -> Int {
        var sum = 0
        for (index, char) in partial.reversed().enumerated() {
            var d = Int(char.asciiValue! - 48)
            if index % 2 == 0 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return (10 - sum % 10) % 10
    }

    mutating func luhnFailing(_ length: Int) -> String {
        let partial = "\(random.int(1...9))" + random.digits(length - 2)
        return partial + "\((luhnDigit(partial) + random.int(1...9)) % 10)"
    }

    mutating func card() -> String {
        let brands: [(prefix: String, length: Int, groups: [Int])] = [
            ("4", 16, [4, 4, 4, 4]), ("4", 13, []), ("5\(random.int(1...5))", 16, [4, 4, 4, 4]),
            ("\(random.int(2221...2720))", 16, [4, 4, 4, 4]), ("3\(random.pick(["4", "7"]))", 15, [4, 6, 5]),
            ("6011", 16, [4, 4, 4, 4]), ("\(random.int(3528...3589))", 16, [4, 4, 4, 4]), ("36", 14, [4, 6, 4]),
        ]
        let brand = random.pick(brands)
        let partial = brand.prefix + random.digits(brand.length - 1 - brand.prefix.count)
        let number = partial + "\(luhnDigit(partial))"
        let style = brand.groups.isEmpty ? 0 : random.int(0...2)
        guard style > 0 else { return number }
        let separator: Character = style == 1 ? " " : "-"
        var out = ""
        var index = number.startIndex
        for (k, size) in brand.groups.enumerated() {
            if k > 0 { out.append(separator) }
            let end = number.index(index, offsetBy: size)
            out += number[index..<end]
            index = end
        }
        return out
    }

    mutating func ipv4() -> String {
        switch random.int(0...3) {
        case 0: return "10.\(random.int(0...255)).\(random.int(0...255)).\(random.int(1...254))"
        case 1: return "172.\(random.int(16...31)).\(random.int(0...255)).\(random.int(1...254))"
        case 2: return "192.168.\(random.int(0...255)).\(random.int(1...254))"
        default: return "\(random.int(11...223)).\(random.int(0...255)).\(random.int(0...255)).\(random.int(1...254))"
        }
    }

    mutating func ipv6() -> String {
        func group() -> String { String(random.int(1...0xFFFF), radix: 16) }
        switch random.int(0...3) {
        case 0: return (0..<8).map { _ in random.hex(4) }.joined(separator: ":")
        case 1: return "2001:db8:" + (0..<random.int(1...3)).map { _ in group() }.joined(separator: ":") + "::" + group()
        case 2: return "fe80::" + (0..<4).map { _ in group() }.joined(separator: ":")
        default: return "::ffff:\(ipv4())"
        }
    }

    mutating func ssn() -> String {
        var area = random.int(1...899)
        if area == 666 { area = 667 }
        return "\(String(area).piiLeftPad(3))-\(String(random.int(1...99)).piiLeftPad(2))-\(String(random.int(1...9999)).piiLeftPad(4))"
    }

    mutating func phone() -> String {
        let area = "\(random.int(2...9))\(random.digits(2))", exchange = "\(random.int(2...9))\(random.digits(2))", line = random.digits(4)
        switch random.int(0...7) {
        case 0: return "+1\(area)\(exchange)\(line)"
        case 1: return "+1 \(area) \(exchange) \(line)"
        case 2: return "(\(area)) \(exchange)-\(line)"
        case 3: return "\(area)-\(exchange)-\(line)"
        case 4: return "\(area).\(exchange).\(line)"
        case 5: return "+44 20 \(random.int(7000...7999)) \(random.digits(4))"
        case 6: return "+49 30 \(random.digits(8))"
        default: return "+1-\(area)-\(exchange)-\(line)"
        }
    }

    mutating func iban() -> String {
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        let (country, bban): (String, String) = {
            switch random.int(0...6) {
            case 0: return ("DE", random.digits(18))
            case 1: return ("GB", random.string(4, from: upper) + random.digits(14))
            case 2: return ("FR", random.digits(10) + random.string(11, from: upper + "0123456789") + random.digits(2))
            case 3: return ("NL", random.string(4, from: upper) + random.digits(10))
            case 4: return ("ES", random.digits(20))
            case 5: return ("IT", random.string(1, from: upper) + random.digits(10) + random.string(12, from: upper + "0123456789"))
            default: return ("BE", random.digits(12))
            }
        }()
        var remainder = 0
        for char in (bban + country + "00") {
            let v = char.isNumber ? Int(char.asciiValue! - 48) : Int(char.asciiValue! - 55)
            remainder = (v >= 10 ? remainder * 100 + v : remainder * 10 + v) % 97
        }
        let compact = country + String(98 - remainder).piiLeftPad(2) + bban
        guard random.chance(0.5) else { return compact }
        var grouped = ""
        for (k, char) in compact.enumerated() {
            if k > 0 && k % 4 == 0 { grouped.append(" ") }
            grouped.append(char)
        }
        return grouped
    }

    mutating func jwt() -> String {
        let header = PIICorpusBase64.encode(Array("{\"alg\":\"\(random.pick(["HS256", "RS256", "ES256"]))\",\"typ\":\"JWT\"}".utf8), url: true)
        let payload = PIICorpusBase64.encode(Array("{\"sub\":\"\(random.int(1000...999_999))\",\"name\":\"\(random.pick(Self.firstNames))\",\"iat\":\(clock),\"exp\":\(clock + 3600)}".utf8), url: true)
        let signature = PIICorpusBase64.encode(random.bytes(random.pick([32, 64])), url: true)
        return "\(header).\(payload).\(signature)"
    }

    mutating func awsSecret() -> String {
        while true {
            let s = random.string(40, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
            if s.contains(where: \.isUppercase) && s.contains(where: \.isLowercase) && s.contains(where: { $0.isNumber || $0 == "/" || $0 == "+" }) { return s }
        }
    }

    mutating func uuid() -> String {
        "\(random.hex(8))-\(random.hex(4))-4\(random.hex(3))-\(random.pick(["8", "9", "a", "b"]))\(random.hex(3))-\(random.hex(12))"
    }
}

extension String {
    func piiLeftPad(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }

    /// `2024-05-01T10:00:00.123456Z` as `2024-05-01 10:00:00.123` (Java style).
    func piiJavaTimestamp() -> String { String(prefix(23)).piiReplacing("T", " ") }

    /// Foundation-free replacement, enough for test data.
    func piiReplacing(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let range = rest.piiRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func piiRange(of target: String) -> Range<Index>? {
        guard let first = target.first else { return nil }
        var index = startIndex
        while let found = self[index...].firstIndex(of: first) {
            if self[found...].hasPrefix(target) { return found..<self.index(found, offsetBy: target.count) }
            index = self.index(after: found)
        }
        return nil
    }
}
