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
