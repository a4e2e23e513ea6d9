import Foundation
import LogBridge
import LogBridgeSinks
import LogBridgeTestKit
import Testing

/// Issue 15, item 3: credentials in URLs and secret references. An endpoint with userinfo is
/// refused at load without its user or password reaching the message; a type error never shows
/// what a `${env:}`/`${file:}` reference expanded to; `${file:}` reads only small regular files,
/// promptly, and warns about a world-readable one.
@Suite struct ConfigurationCredentialTests {
    static func withSink(_ sink: String, endpoint: String = "https://es1:9200", extra: String = "") -> String {
        """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["logs"]
        spool:
          path: /tmp/logbridge-credentials
        sinks:
          out:
            type: \(sink)
            endpoints: ["https://first:9200", "\(endpoint)"]
        \(extra)
        """
    }

    static let sinkExtras = [
        "elasticsearch": "",
        "splunk_hec": "    token: \"00000000-0000-0000-0000-000000000000\"",
        "loki": "    labels: {job: logbridge}",
    ]

    func issues(_ yaml: String, environment: [String: String] = [:]) -> [ConfigurationIssue] {
        configurationIssues(yaml, environment: environment)
    }

    // MARK: Endpoints

    @Test(arguments: ["elasticsearch", "splunk_hec", "loki"])
    func anEndpointWithCredentialsIsRefusedShowingOnlySchemeHostAndPort(_ sink: String) {
        let extra = Self.sinkExtras[sink]!
        let found = issues(Self.withSink(sink, endpoint: "https://alice:hunter2-pass@es1.example.internal:9200/prefix", extra: extra))
        #expect(found.map(\.path) == ["sinks.out.endpoints[1]"])
        #expect(found.first?.line == 10)
        let text = found.map(\.description).joined()
        #expect(text.contains("https://es1.example.internal:9200"))
        #expect(!text.contains("alice"))
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("prefix"))
        let keys = sink == "splunk_hec" ? "sinks.out.token" : "sinks.out.user and sinks.out.password"
        #expect(text.contains(keys), "\(text)")
    }

    @Test func everyShapeOfURLCredentialsIsRefusedWithoutEchoingThem() {
        let endpoints = [
            "https://alice@es1:9200", "https://alice:@es1:9200", "https://:hunter2-pass@es1:9200",
            "http://alice:hunter2-pass@[::1]:9200", "https://alice:hunter2-pass@es1", "https://alice:hunter2@pass@es1:9200",
            "https://alice:hunter2/pass@es1:9200", "https://es1:9200/x?token=hunter2-pass", "https://es1:9200/#hunter2-pass",
            "https://es1:9200/alice:hunter2-pass@x", "https://alice:hunter2-pass@es1:99999", "https://alice hunter2-pass@es1",
            "ftp://alice:hunter2-pass@es1", "alice:hunter2-pass@es1:9200",
        ]
        for endpoint in endpoints {
            let found = issues(Self.withSink("elasticsearch", endpoint: endpoint))
            #expect(found.map(\.path) == ["sinks.out.endpoints[1]"], "\(endpoint)")
            let text = found.map(\.description).joined()
            #expect(!text.contains("alice"), "\(endpoint): \(text)")
            #expect(!text.contains("hunter2"), "\(endpoint): \(text)")
        }
    }

    @Test func anEndpointFromTheEnvironmentIsCheckedTheSameWay() {
        let yaml = Self.withSink("elasticsearch", endpoint: "${env:ES_URL}")
        let found = issues(yaml, environment: ["ES_URL": "https://elastic:s3cr3t-from-env@es2.example.internal:9243"])
        #expect(found.map(\.path) == ["sinks.out.endpoints[1]"])
        let text = found.map(\.description).joined()
        #expect(text.contains("https://es2.example.internal:9243"))
        #expect(!text.contains("elastic:"))
        #expect(!text.contains("s3cr3t"))
    }

    @Test func plainEndpointsStillLoadAndShowAsWritten() throws {
        for endpoint in ["https://es1:9200", "http://127.0.0.1:9200/", "https://[::1]:9200", "https://es.example.internal/es-proxy", "http://es_1"] {
            let loaded = try LogBridgeConfiguration.parse(yaml: Self.withSink("elasticsearch", endpoint: endpoint), environment: [:])
            guard let es = loaded.configuration.sinks.first?.kind as? ElasticsearchSinkConfiguration else {
                Issue.record("not Elasticsearch")
                continue
            }
            #expect(es.http.endpoints == ["https://first:9200", endpoint])
            #expect(loaded.effectiveYAML().contains(endpoint))
        }
    }

    @Test func theEndpointParserShowsOnlyTheOrigin() {
        #expect(EndpointURL.parse("https://alice:pw@es1:9200/p") == .failure(.credentials(origin: "https://es1:9200")))
        #expect(EndpointURL.parse("https://alice:pw@[fe80::1]") == .failure(.credentials(origin: "https://[fe80::1]")))
        #expect(EndpointURL.parse("https://es1:9200/p?token=x") == .failure(.queryOrFragment(origin: "https://es1:9200")))
        #expect(EndpointURL.parse("https://es1:9200\\@alice") == .failure(.invalidCharacters))
        #expect(EndpointURL.parse("https://es1:0") == .failure(.invalidPort))
        #expect(EndpointURL.parse("https://es1:+80") == .failure(.invalidPort))
        #expect(EndpointURL.parse("https://:80") == .failure(.invalidHost))
        #expect(EndpointURL.parse("HTTPS://es1") == .failure(.notHTTP))
        #expect((try? EndpointURL.parse("https://es1:9200/prefix").get())?.origin == "https://es1:9200")
    }

    @Test func brokersAndTheAdminAddressRefuseCredentialsToo() {
        let brokers = issues("""
            source:
              kafka:
                brokers: ["127.0.0.1:9092", "SASL_SSL://alice:hunter2-pass@kafka:9093"]
                topics: [logs]
            spool:
              path: /tmp/x
            sinks:
              out:
                type: console
            admin:
              listen: "alice:hunter2-pass@0.0.0.0:9180"
            """)
        #expect(brokers.map(\.path) == ["source.kafka.brokers[1]", "admin.listen"])
        #expect(brokers.first?.line == 3)
        #expect(brokers.first?.message.contains("sasl.username") == true)
        #expect(!brokers.description.contains("hunter2"))
        #expect(!brokers.description.contains("alice"))
    }

    // MARK: Expanded values in messages

    /// Each key gets `${env:VALUE}` holding a secret that is the wrong type for it.
    @Test(arguments: [
        "sinks.out.batch_size", "sinks.out.interval", "sinks.out.max_batch_bytes", "sinks.out.compression", "sinks.out.concurrency",
        "sinks.out.data_stream", "sinks.out.request_timeout", "sinks.out.index", "admin.listen", "admin.max_connections",
        "log.level", "spool.high_watermark", "shutdown_timeout",
    ])
    func aTypeErrorNeverShowsWhatAReferenceExpandedTo(_ path: String) {
        let secret = "Sup3r-S3cret{value"
        let parts = path.split(separator: ".")
        var yaml = Self.withSink("elasticsearch")
        let line = "\(parts.last!): \"${env:VALUE}\""
        switch parts.first {
        case "sinks": yaml += "\n    \(line)"
        case "shutdown_timeout": yaml += "\n\(line)"
        case "spool": yaml = yaml.replacingOccurrences(of: "spool:\n", with: "spool:\n  \(line)\n")
        default: yaml += "\n\(parts[0]):\n  \(line)"
        }
        let found = issues(yaml, environment: ["VALUE": secret])
        #expect(found.map(\.path) == [path], "\(found)")
        let text = found.map(\.description).joined()
        #expect(!text.contains("Sup3r"), "\(text)")
        #expect(!text.contains("S3cret"), "\(text)")
        #expect(text.contains("${env:VALUE}"), "\(text)")
    }

    @Test func aValueFromAFileIsNotShownInATypeErrorEither() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-secret-type")
        defer { directory.remove() }
        let file = directory.file("batch")
        try "not-a-number-but-a-S3CRET\n".write(toFile: file, atomically: true, encoding: .utf8)
        let found = issues(Self.withSink("elasticsearch") + "\n    batch_size: \"${file:\(file)}\"")
        #expect(found.map(\.path) == ["sinks.out.batch_size"])
        #expect(!found.description.contains("S3CRET"))
        #expect(found.first?.message.contains("${file:\(file)}") == true)
    }

    // MARK: ${file:}

    func fileIssue(_ path: String) -> (issues: [ConfigurationIssue], elapsed: Duration) {
        let started = ContinuousClock.now
        let found = issues(Self.withSink("elasticsearch") + "\n    api_key: \"${file:\(path)}\"")
        return (found, ContinuousClock.now - started)
    }

    @Test(arguments: ["/dev/zero", "/dev/urandom", "/dev/null", "/"])
    func aFileReferenceToADeviceOrDirectoryIsRefusedPromptly(_ path: String) {
        let (found, elapsed) = fileIssue(path)
        #expect(found.map(\.path) == ["sinks.out.api_key"])
        #expect(found.first?.message.contains("regular files only") == true, "\(found)")
        #expect(found.first?.message.contains(path) == true)
        #expect(elapsed < .seconds(2))
    }

    @Test func aFileReferenceToAFIFOIsRefusedWithoutWaitingForAWriter() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-fifo")
        defer { directory.remove() }
        let fifo = directory.file("secret.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let (found, elapsed) = fileIssue(fifo)
        #expect(found.map(\.path) == ["sinks.out.api_key"])
        #expect(found.first?.message.contains("a FIFO") == true, "\(found)")
        #expect(elapsed < .seconds(2))
    }

    @Test func anOversizeFileIsRefusedAndTheLimitItselfLoads() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-oversize")
        defer { directory.remove() }
        let big = directory.file("big")
        try String(repeating: "k", count: 64 * 1024 + 1).write(toFile: big, atomically: true, encoding: .utf8)
        let (found, _) = fileIssue(big)
        #expect(found.map(\.path) == ["sinks.out.api_key"])
        #expect(found.first?.message.contains("larger than 64 KiB") == true, "\(found)")
        #expect(!found.description.contains("kkkk"))
        let fits = directory.file("fits")
        try String(repeating: "k", count: 64 * 1024).write(toFile: fits, atomically: true, encoding: .utf8)
        #expect(fileIssue(fits).issues.isEmpty)
    }

    @Test func aWorldReadableSecretFileLoadsWithAWarningAndAPrivateOneWithout() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-mode")
        defer { directory.remove() }
        let key = directory.file("es-api-key")
        try "a2V5OnNlY3JldA==\n".write(toFile: key, atomically: true, encoding: .utf8)
        // Referenced twice, warned about once.
        let yaml = Self.withSink("elasticsearch") + "\n    api_key: \"${file:\(key)}\"\n    ingest_pipeline: \"${file:\(key)}\""
        func line(of key: String) -> Int {
            yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("\(key):") }! + 1
        }

        #expect(chmod(key, 0o644) == 0)
        let open = try LogBridgeConfiguration.parse(yaml: yaml, environment: [:])
        #expect(open.warnings.count == 1, "\(open.warnings)")
        let warned = try #require(open.warnings.first)
        // At the key read first (the sink's keys are decoded in a fixed order, not file order).
        #expect(["sinks.out.api_key", "sinks.out.ingest_pipeline"].contains(warned.path))
        #expect(warned.line == line(of: String(warned.path.split(separator: ".").last!)))
        #expect(open.warnings.first?.message.contains("\(key) referenced by ${file:} is readable by every user (mode 0644)") == true)
        #expect(!open.warnings.description.contains("a2V5"))

        #expect(chmod(key, 0o640) == 0)
        #expect(try LogBridgeConfiguration.parse(yaml: yaml, environment: [:]).warnings.isEmpty)
    }
}
