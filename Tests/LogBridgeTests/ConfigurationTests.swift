import Foundation
import LogBridge
import LogBridgeSinks
import LogBridgeTestKit
import Testing

@Suite struct ConfigurationTests {
    static let valid = """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["logs"]
            group_id: "logbridge"
            start_from: latest
            properties:
              fetch.wait.max.ms: 50
              ssl.key.password: "hunter2"
        spool:
          path: "/var/lib/logbridge"
          max_bytes: "10GiB"
        sinks:
          archive:
            type: file
            path: "/var/log/logbridge/events.ndjson"
            batch_size: 500
            interval: 250ms
        admin:
          listen: "127.0.0.1:9180"
        """

    func issues(_ yaml: String, environment: [String: String] = [:]) -> [ConfigurationIssue] {
        configurationIssues(yaml, environment: environment)
    }

    @Test func theDocumentedKeysLoadWithTheirDefaults() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.valid, environment: [:])
        let c = loaded.configuration
        #expect(c.source.brokers == ["127.0.0.1:9092"])
        #expect(c.source.startFrom == .latest)
        #expect(c.source.properties["fetch.wait.max.ms"] == "50")
        #expect(c.spool.maxBytes == 10 << 30)
        #expect(c.spool.highWatermark == 0.9)
        #expect(c.sinks.map(\.name) == ["archive"])
        #expect(c.sinks[0].runner.batchSize == 500)
        #expect(c.sinks[0].runner.interval == .milliseconds(250))
        #expect(c.admin.listen == "127.0.0.1:9180")
    }

    @Test func anUnknownKeyIsNamedWithItsLine() {
        let yaml = Self.valid.replacingOccurrences(of: "    group_id: \"logbridge\"", with: "    group_id: \"logbridge\"\n    gruop: x")
        let found = issues(yaml)
        #expect(found.count == 1)
        #expect(found.first?.path == "source.kafka.gruop")
        #expect(found.first?.line == 6)
        #expect(found.first?.description.contains("unknown key 'gruop'") == true)
    }

    @Test func aWrongTypeIsNamedWithItsLine() {
        let yaml = Self.valid.replacingOccurrences(of: "batch_size: 500", with: "batch_size: lots")
        let found = issues(yaml)
        #expect(found.map(\.path) == ["sinks.archive.batch_size"])
        #expect(found.first?.line == 17)
        #expect(found.first?.message.contains("whole number") == true)
        let list = issues(Self.valid.replacingOccurrences(of: "topics: [\"logs\"]", with: "topics: {a: b}"))
        #expect(list.map(\.path) == ["source.kafka.topics"])
        #expect(list.first?.line == 4)
    }

    @Test func anUnreadableFileReferenceIsNamedWithItsLine() {
        let yaml = Self.valid.replacingOccurrences(of: "group_id: \"logbridge\"", with: "group_id: \"${file:/nonexistent/secret}\"")
        let found = issues(yaml)
        #expect(found.map(\.path) == ["source.kafka.group_id"])
        #expect(found.first?.line == 5)
        #expect(found.first?.message.contains("/nonexistent/secret") == true)
    }

    @Test func missingRequiredValuesAndSeveralProblemsAreAllReported() {
        let found = issues("""
            source:
              kafka:
                topics: [logs]
            spool:
              max_bytes: 12 parsecs
            sinks:
              out:
                type: kinesis
              hec:
                type: splunk_hec
            """)
        let paths = Set(found.map(\.path))
        #expect(paths.contains("source.kafka.brokers"))
        #expect(paths.contains("spool.path"))
        #expect(paths.contains("spool.max_bytes"))
        #expect(paths.contains("sinks.out.type"))
        #expect(paths.contains("sinks.hec.endpoints"))
        #expect(found.allSatisfy { $0.line != nil })
    }

    @Test func environmentAndFileReferencesAreExpandedAndMasked() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let secretFile = directory.file("eventhubs")
        let connection = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0LWtleS12YWx1ZQ=="
        try (connection + "\n").write(toFile: secretFile, atomically: true, encoding: .utf8)
        let yaml = """
            source:
              kafka:
                connection_string: "${file:\(secretFile)}"
                topics: ["${env:HUB}"]
            spool:
              path: /tmp/spool
            sinks:
              out:
                type: console
            """
        let loaded = try LogBridgeConfiguration.parse(yaml: yaml, environment: ["HUB": "aks-logs"])
        #expect(loaded.configuration.source.topics == ["aks-logs"])
        #expect(loaded.configuration.source.connectionString?.secret == connection, "trimmed")
        let props = Dictionary(loaded.configuration.source.librdkafkaProperties(clientID: "x"), uniquingKeysWith: { $1 })
        #expect(props["bootstrap.servers"] == "contoso.servicebus.windows.net:9093")
        #expect(props["security.protocol"] == "SASL_SSL")
        #expect(props["sasl.mechanisms"] == "PLAIN")
        #expect(props["sasl.username"] == "$ConnectionString")
        #expect(props["metadata.max.age.ms"] == "180000")
        let printed = loaded.effectiveYAML()
        #expect(!printed.contains("c2VjcmV0"))
        #expect(!printed.contains("SharedAccessKey"))
        #expect(printed.contains("contoso.servicebus.windows.net"))
    }

    @Test func secretPropertiesAreMaskedInCheckOutput() throws {
        let printed = try LogBridgeConfiguration.parse(yaml: Self.valid, environment: [:]).effectiveYAML()
        #expect(!printed.contains("hunter2"))
        #expect(printed.contains("ssl.key.password: ********"))
        #expect(printed.contains("fetch.wait.max.ms: 50"))
    }

    @Test func theAdminTokenIsReadFromAFileAndMaskedInCheckOutputAndErrors() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-admin-token")
        defer { directory.remove() }
        let tokenFile = directory.file("admin-token")
        try "s3cr3t-admin-token-0123456789\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let yaml = Self.valid.replacingOccurrences(
            of: "  listen: \"127.0.0.1:9180\"",
            with: "  listen: \"0.0.0.0:9180\"\n  token: \"${file:\(tokenFile)}\"\n  max_connections: 8\n  idle_timeout: 45s\n  request_timeout: 2s")
        let loaded = try LogBridgeConfiguration.parse(yaml: yaml, environment: [:])
        let admin = loaded.configuration.admin
        #expect(admin.token == "s3cr3t-admin-token-0123456789", "trimmed")
        #expect(admin.maxConnections == 8)
        #expect(admin.idleTimeout == .seconds(45))
        #expect(admin.requestTimeout == .seconds(2))
        let printed = loaded.effectiveYAML()
        #expect(!printed.contains("s3cr3t"))
        #expect(printed.contains("  token: ********"))
        #expect(printed.contains("  max_connections: 8"))
        #expect(printed.contains("  idle_timeout: 45s"))
        // Interpolated into a log line or dumped, the configuration still hides it.
        #expect(!"\(admin)".contains("s3cr3t"))
        var dumped = ""
        dump(loaded.configuration, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
        // `status --config` reads the admin section alone: no Kafka or sink secret needed.
        let adminOnly = directory.file("admin-only.yaml")
        try "admin:\n  listen: \"127.0.0.1:9999\"\n  token: \"${file:\(tokenFile)}\"\n".write(
            toFile: adminOnly, atomically: true, encoding: .utf8)
        #expect(try LogBridgeConfiguration.loadAdmin(path: adminOnly, environment: [:]).token == admin.token)
    }

    @Test func aWeakOrMalformedAdminTokenIsRefusedWithoutBeingQuoted() {
        func adminIssues(_ lines: String, environment: [String: String] = [:]) -> [ConfigurationIssue] {
            issues(Self.valid.replacingOccurrences(of: "  listen: \"127.0.0.1:9180\"", with: lines), environment: environment)
        }
        let short = adminIssues("  token: \"${env:ADMIN_TOKEN}\"", environment: ["ADMIN_TOKEN": "tooshort42"])
        #expect(short.map(\.path) == ["admin.token"])
        #expect(short.first?.message.contains("at least 16") == true)
        #expect(!short.description.contains("tooshort42"))
        let spaced = adminIssues("  token: \"${env:ADMIN_TOKEN}\"", environment: ["ADMIN_TOKEN": "long enough but spaced out"])
        #expect(spaced.map(\.path) == ["admin.token"])
        #expect(!spaced.description.contains("spaced out"))
        #expect(adminIssues("  max_connections: 0").map(\.path) == ["admin.max_connections"])
        #expect(adminIssues("  idle_timeout: 10ms").map(\.path) == ["admin.idle_timeout"])
        #expect(adminIssues("  request_timeout: soon").map(\.path) == ["admin.request_timeout"])
        #expect(adminIssues("  tokne: x").first?.message.contains("unknown key 'tokne'") == true)
    }

    @Test func aMalformedConnectionStringIsRejectedWithoutEchoingTheKey() {
        let yaml = """
            source:
              kafka:
                connection_string: "Endpoint=https://contoso.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=TOPSECRETKEY"
                topics: [logs]
            spool:
              path: /tmp/spool
            sinks:
              out:
                type: console
            """
        let found = issues(yaml)
        #expect(found.map(\.path) == ["source.kafka.connection_string"])
        #expect(found.first?.message.contains("sb://") == true)
        #expect(!found.description.contains("TOPSECRETKEY"))
    }

    @Test func reservedLibrdkafkaPropertiesCannotBeOverridden() {
        let yaml = Self.valid.replacingOccurrences(of: "fetch.wait.max.ms: 50", with: "enable.auto.offset.store: true")
        #expect(issues(yaml).map(\.path) == ["source.kafka.properties.enable.auto.offset.store"])
    }

    static func withSinks(_ sinks: String) -> String {
        """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["logs"]
            group_id: "logbridge"
        spool:
          path: "/var/lib/logbridge"
          max_bytes: "1GiB"
        sinks:
        \(sinks)
        """
    }

    /// The sink sends JSON event objects: the three event endpoints (and no path) load, the raw
    /// endpoint and anything else are refused with the key, the line and the accepted paths.
    @Test func hecPathsOtherThanTheEventEndpointsAreRefused() throws {
        func hec(_ pathLine: String) -> String {
            Self.withSinks("""
                  splunk:
                    type: splunk_hec
                    endpoints: ["https://idx1:8088"]
                    token: "t"
                \(pathLine)
                """)
        }
        for accepted in ["/services/collector", "/services/collector/event", "/services/collector/event/1.0"] {
            let loaded = try LogBridgeConfiguration.parse(yaml: hec("    path: \(accepted)"), environment: [:])
            guard let configuration = loaded.configuration.sinks.first?.kind as? SplunkHECSinkConfiguration else { Issue.record("not HEC"); continue }
            #expect(configuration.path == accepted)
        }
        let defaulted = try LogBridgeConfiguration.parse(yaml: hec(""), environment: [:])
        guard let configuration = defaulted.configuration.sinks.first?.kind as? SplunkHECSinkConfiguration else { Issue.record("not HEC"); return }
        #expect(configuration.path == "/services/collector/event")

        let rawYAML = hec("    path: /services/collector/raw")
        let pathLine = rawYAML.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("path: /services") }! + 1
        let raw = issues(rawYAML)
        #expect(raw.count == 1)
        #expect(raw.first?.path == "sinks.splunk.path")
        #expect(raw.first?.line == pathLine)
        let message = raw.first?.message ?? ""
        #expect(message.contains("raw endpoint is not supported"))
        #expect(message.contains("/services/collector, /services/collector/event, /services/collector/event/1.0"))
        for refused in ["/services/collector/raw/1.0", "/services/collector/ack", "/services/collector/event/", "/custom/hec"] {
            let found = issues(hec("    path: \(refused)"))
            #expect(found.map(\.path) == ["sinks.splunk.path"], "\(refused)")
        }
    }

    @Test func splunkHECKeysLoadAndTheTokenIsMasked() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.withSinks("""
              splunk:
                type: splunk_hec
                endpoints: ["https://idx1:8088", "https://idx2:8088"]
                token: "0f3c1a2b-secret-token"
                host: "{kubernetes.host}"
                sourcetype: _json
                fields:
                  cluster: aks-prod
                ack_poll_interval: 5s
                ack_timeout: 2m
                concurrency: adaptive
                max_concurrency: 12
                batch_size: 500
                interval: 30s
            """), environment: [:])
        let sink = try #require(loaded.configuration.sinks.first)
        guard let hec = sink.kind as? SplunkHECSinkConfiguration else { Issue.record("not a HEC sink"); return }
        #expect(hec.http.authentication == .header(name: "Authorization", value: "Splunk 0f3c1a2b-secret-token"))
        #expect(hec.acknowledgements)
        #expect(hec.ackTimeout == .seconds(120))
        #expect(hec.fields.map(\.name) == ["cluster"])
        #expect(sink.runner.interval == .seconds(30))
        #expect(sink.runner.maxPendingConfirmations == 1000)
        #expect(hec.http.adaptiveConcurrencyMaximum == 12)
        #expect(sink.runner.concurrency == 12)
        let shown = loaded.effectiveYAML()
        #expect(!shown.contains("secret-token"))
        #expect(shown.contains("token: ********"))
        #expect(shown.contains("concurrency: adaptive"))
    }

    @Test func lokiLabelsAreSanitisedAndPerRecordFieldsAreRefused() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.withSinks("""
              loki:
                type: loki
                endpoints: ["http://loki:3100"]
                tenant_id: team-a
                labels:
                  namespace: "{kubernetes.namespace_name}"
                  app.kubernetes.io/name: "{kubernetes.labels.app}"
                  9lives: cat
            """), environment: [:])
        guard let loki = loaded.configuration.sinks.first?.kind as? LokiSinkConfiguration else { Issue.record("not a Loki sink"); return }
        #expect(loki.labels.map(\.name) == ["namespace", "app_kubernetes_io_name", "_9lives"])
        #expect(loki.tenantID == "team-a")

        let found = issues(Self.withSinks("""
              loki:
                type: loki
                endpoints: ["http://loki:3100"]
                labels:
                  line: "{log}"
                  day: "%Y-%m-%d"
            """))
        #expect(found.map(\.path) == ["sinks.loki.labels.line", "sinks.loki.labels.day"])
        #expect(found.first?.message.contains("stream per line") == true)
    }

    /// Structured metadata takes the per-record fields labels refuse, under label-name rules,
    /// and shows in `check` output.
    @Test func lokiStructuredMetadataLoadsTakesPerRecordFieldsAndShowsInCheck() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.withSinks("""
              loki:
                type: loki
                endpoints: ["http://loki:3100"]
                labels: {job: aks}
                structured_metadata:
                  trace_id: "{trace_id}"
                  pod.uid: "{kubernetes.pod_id}"
            """), environment: [:])
        guard let loki = loaded.configuration.sinks.first?.kind as? LokiSinkConfiguration else { Issue.record("not a Loki sink"); return }
        #expect(loki.structuredMetadata.map(\.name) == ["trace_id", "pod_uid"])
        #expect(loki.structuredMetadata.map(\.template.source) == ["{trace_id}", "{kubernetes.pod_id}"])
        let shown = loaded.effectiveYAML()
        #expect(shown.contains("    structured_metadata:\n      trace_id: \"{trace_id}\"\n      pod_uid: \"{kubernetes.pod_id}\"\n"))

        let without = try LogBridgeConfiguration.parse(yaml: Self.withSinks("""
              loki:
                type: loki
                endpoints: ["http://loki:3100"]
            """), environment: [:])
        guard let plain = without.configuration.sinks.first?.kind as? LokiSinkConfiguration else { Issue.record("not a Loki sink"); return }
        #expect(plain.structuredMetadata.isEmpty)
        #expect(without.effectiveYAML().contains("    structured_metadata: {}\n"), "check shows the default")

        let found = issues(Self.withSinks("""
              loki:
                type: loki
                endpoints: ["http://loki:3100"]
                labels: {job: aks}
                structured_metadata:
                  job: "{kubernetes.pod_id}"
                  trace-id: "{trace_id}"
                  trace_id: "{traceId}"
                  bad: "{unclosed"
                  list: [a, b]
            """))
        #expect(found.map(\.path) == [
            "sinks.loki.structured_metadata.job", "sinks.loki.structured_metadata.trace_id",
            "sinks.loki.structured_metadata.bad", "sinks.loki.structured_metadata.list",
        ])
        #expect(found.first?.message.contains("already a stream label") == true)
        #expect(found[1].message.contains("set twice") == true)
        #expect(found.allSatisfy { $0.line != nil })
    }

    /// `pipeline test` loads a file whose source, spool, sink and admin secrets cannot be read
    /// here: they become placeholders, noted, and problems about them are dropped. The pipeline's
    /// own references must still resolve, except a hash key, which gets an announced placeholder.
    @Test func aDryRunNeedsOnlyThePipelinesSecrets() throws {
        let yaml = """
            source:
              kafka:
                connection_string: "${file:/nonexistent/eventhubs}"
                topics: ["${env:HUB}"]
            spool:
              path: /tmp/spool
              max_bytes: "${env:SPOOL_MAX_BYTES}"
            pipeline:
              - type: set
                field: environment
                value: "${env:ENVIRONMENT}"
              - type: redact
                mode: hash
                hash_key: "${file:/nonexistent/hash-key}"
            sinks:
              hec:
                type: splunk_hec
                endpoints: ["${env:HEC_URL}"]
                token: "${file:/nonexistent/hec-token}"
                pipeline:
                  - type: set
                    field: sink
                    value: "${env:SINK_TAG}"
            admin:
              listen: "${env:ADMIN_LISTEN}"
            """
        // `check` and `run` refuse every unresolved reference.
        let refused = Set(issues(yaml, environment: ["ENVIRONMENT": "prod", "SINK_TAG": "a"]).map(\.path))
        #expect(refused.isSuperset(of: [
            "source.kafka.connection_string", "source.kafka.topics[0]", "spool.max_bytes", "pipeline[1].hash_key",
            "sinks.hec.endpoints[0]", "sinks.hec.token", "admin.listen",
        ]))

        let loaded = try LogBridgeConfiguration.parse(yaml: yaml, environment: ["ENVIRONMENT": "prod", "SINK_TAG": "a"], dryRun: DryRunLoading())
        let notes = loaded.dryRunNotes.map(\.path)
        #expect(Set(notes) == [
            "source.kafka.connection_string", "source.kafka.topics[0]", "spool.max_bytes", "pipeline[1].hash_key",
            "sinks.hec.endpoints[0]", "sinks.hec.token", "admin.listen",
        ])
        #expect(loaded.dryRunNotes.allSatisfy { $0.line != nil })
        let hashNote = try #require(loaded.dryRunNotes.first { $0.path == "pipeline[1].hash_key" })
        #expect(hashNote.message.contains("placeholder key"))
        guard case .redact(let redact) = loaded.configuration.pipeline.processors.last else { Issue.record("no redact"); return }
        #expect(redact.rules.hashKey == Array(DryRunLoading.placeholderHashKey.utf8))

        // In the pipeline sections, other references must resolve even in a dry run.
        do {
            _ = try LogBridgeConfiguration.parse(yaml: yaml, environment: ["ENVIRONMENT": "prod"], dryRun: DryRunLoading())
            Issue.record("a sink pipeline's unresolved reference was accepted")
        } catch {
            #expect(error.issues.map(\.path) == ["sinks.hec.pipeline[0].value"])
        }
    }

    @Test func aDataStreamNameWithADateIsRefused() {
        let found = issues(Self.withSinks("""
              es:
                type: elasticsearch
                endpoints: ["http://es:9200"]
                index: "logs-%Y.%m.%d"
                data_stream: true
            """))
        #expect(found.map(\.path) == ["sinks.es.index"])
        #expect(found.first?.message.contains("rolls over by itself") == true)
    }

    @Test func theDeadLetterLimitDefaultsToATenthOfTheSpoolAndIsBounded() throws {
        let defaults = try LogBridgeConfiguration.parse(yaml: Self.valid, environment: [:])
        #expect(defaults.configuration.spool.deadLetterMaxBytes == nil)
        #expect(defaults.configuration.spool.deadLetterByteLimit == 1 << 30)
        #expect(defaults.effectiveYAML().contains("  dead_letter_max_bytes: 1GiB\n"), "check shows the effective limit")

        let set = Self.valid.replacingOccurrences(of: "  max_bytes: \"10GiB\"", with: "  max_bytes: \"10GiB\"\n  dead_letter_max_bytes: 256MiB")
        let loaded = try LogBridgeConfiguration.parse(yaml: set, environment: [:])
        #expect(loaded.configuration.spool.deadLetterByteLimit == 256 << 20)

        let tooLarge = issues(Self.valid.replacingOccurrences(of: "  max_bytes: \"10GiB\"", with: "  max_bytes: \"10GiB\"\n  dead_letter_max_bytes: 6GiB"))
        #expect(tooLarge.map(\.path) == ["spool.dead_letter_max_bytes"])
        #expect(tooLarge.first?.line == 13)
        #expect(tooLarge.first?.message.contains("at most half of spool.max_bytes (5GiB)") == true)
        let tooSmall = issues(Self.valid.replacingOccurrences(of: "  max_bytes: \"10GiB\"", with: "  max_bytes: \"10GiB\"\n  dead_letter_max_bytes: 1000"))
        #expect(tooSmall.map(\.path) == ["spool.dead_letter_max_bytes"])
    }
}
