import LogBridge
import Testing

/// `check` refuses unknown `%kafka.…` names with their key and line, and metadata as a target.
struct KafkaMetadataConfigurationTests {
    func issues(_ yaml: String) -> [ConfigurationIssue] { configurationIssues(yaml) }

    static let base = """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["app-logs", "audit-logs"]
        spool:
          path: "/var/lib/logbridge"
        """

    @Test func metadataLoadsWhereItIsRead() {
        #expect(issues(Self.base + """

            pipeline:
              - type: set
                field: hub
                template: "{%kafka.topic}"
              - type: route
                rules:
                  - when: {field: "%kafka.topic", equals: audit-logs}
                    sinks: [es]
            sinks:
              es:
                type: elasticsearch
                endpoints: ["https://es:9200"]
                index: "{%kafka.topic}-%Y.%m.%d"
            """).isEmpty)
    }

    @Test func unknownNamesAreReportedWithTheirLine() {
        let found = issues(Self.base + """

            pipeline:
              - type: filter
                when: {field: "%kafka.topik", equals: x}
              - type: set
                field: hub
                template: "{%kafka.offsett}"
            sinks:
              es:
                type: elasticsearch
                endpoints: ["https://es:9200"]
                index: "{%kafka.partitions}"
            """)
        #expect(found.map(\.path).sorted() == ["pipeline[0].when.field", "pipeline[1].template", "sinks.es.index"])
        #expect(found.compactMap(\.line).sorted() == [9, 12, 17])
        #expect(found.allSatisfy { $0.message.contains("%kafka.topic, %kafka.partition") })
    }

    @Test func metadataIsNeverATarget() {
        let found = issues(Self.base + """

            pipeline:
              - type: set
                field: "%kafka.topic"
                value: x
            sinks:
              out:
                type: console
            """)
        #expect(found.map(\.path) == ["pipeline[0].field"])
        #expect(found.first?.message.contains("read-only") == true)
    }
}

/// The source reads Kafka headers only when the configuration names one: wherever a template or
/// field is read, and through `${env:}` expansions too; `check` says which.
struct KafkaHeaderReadsConfigurationTests {
    func load(_ yaml: String, environment: [String: String] = [:]) throws -> LoadedConfiguration {
        try LogBridgeConfiguration.parse(yaml: KafkaMetadataConfigurationTests.base + "\n" + yaml, environment: environment)
    }

    static let sink = """
        sinks:
          es:
            type: elasticsearch
            endpoints: ["https://es:9200"]
            index: "{%kafka.topic}-%Y.%m.%d"
        """

    @Test func nothingNamesAHeaderSoNoneAreRead() throws {
        let loaded = try load(Self.sink)
        #expect(loaded.configuration.source.keepsHeaders == false)
        #expect(loaded.effectiveYAML().contains("# Kafka headers: not read"))
    }

    @Test func aSinkTemplateNamingAHeaderKeepsThem() throws {
        let loaded = try load("""
            sinks:
              hec:
                type: splunk_hec
                endpoints: ["https://splunk:8088"]
                token: "00000000-0000-0000-0000-000000000000"
                fields:
                  trace: "{%kafka.headers.trace}"
            """)
        #expect(loaded.configuration.source.keepsHeaders)
        #expect(loaded.effectiveYAML().contains("# Kafka headers: read and spooled"))
    }

    @Test func aPipelineConditionNamingAHeaderKeepsThem() throws {
        let loaded = try load("""
            pipeline:
              - type: filter
                when: {field: "%kafka.headers.tenant", equals: x}
            """ + "\n" + Self.sink)
        #expect(loaded.configuration.source.keepsHeaders)
    }

    @Test func aHeaderNamedThroughAnEnvironmentVariableKeepsThem() throws {
        let loaded = try load("""
            sinks:
              es:
                type: elasticsearch
                endpoints: ["https://es:9200"]
                index: "${env:INDEX_TEMPLATE}"
            """, environment: ["INDEX_TEMPLATE": "logs-{%kafka.headers.tenant}"])
        #expect(loaded.configuration.source.keepsHeaders)
    }
}
