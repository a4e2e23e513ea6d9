import Foundation
import LogBridge
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeTestKit
import Testing

@Suite struct PipelineConfigurationTests {
    static let base = """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["logs"]
        spool:
          path: "/var/lib/logbridge"
        """

    static func yaml(pipeline: String, sinkPipeline: String = "") -> String {
        base + "\npipeline:\n" + pipeline + """

            sinks:
              es:
                type: elasticsearch
                endpoints: ["http://127.0.0.1:9200"]
                ingest_pipeline: geoip
            \(sinkPipeline)
              archive:
                type: file
                path: /tmp/x.ndjson
            """
    }

    func issues(_ yaml: String) -> [ConfigurationIssue] {
        configurationIssues(yaml)
    }

    @Test func everyProcessorTypeLoads() throws {
        let pipeline = """
              - type: cri
                flush_timeout: 2s
              - type: json
                field: log
                target: log_processed
              - type: regex
                field: log
                pattern: '^(?P<level>[A-Z]+) '
              - type: logfmt
              - type: kv
                field_split: ";"
                value_split: ":"
              - type: csv
                field: message
                columns: [a, b]
                separator: "\\t"
              - type: convert
                fields: {status: int, took: float}
              - type: timestamp
                field: time
                formats: [rfc3339, "%d/%m/%Y %H:%M"]
                timezone: Europe/Paris
              - type: set
                field: env
                value: prod
              - type: rename
                fields: {a: b}
              - type: remove
                fields: [secret]
              - type: keep
                fields: [log, kubernetes]
              - type: drop
                when: {field: level, equals: debug}
              - type: filter
                when: {or: [{field: status, gte: 500}, {not: {field: path, matches: "^/health"}}]}
              - type: route
                rules:
                  - when: {field: kubernetes.namespace_name, in: [payments]}
                    sinks: [archive]
                default: [es]
              - type: metrics
                metrics:
                  - name: app_errors_total
                    type: counter
                    labels: {namespace: kubernetes.namespace_name}
                    when: {field: level, equals: error}
              - type: redact
                detectors: [email, credit_card]
                mode: hash
                modes: {credit_card: partial}
                hash_key: ${env:HASH_KEY}
            """
        let loaded = try LogBridgeConfiguration.parse(
            yaml: Self.yaml(pipeline: pipeline, sinkPipeline: "    pipeline:\n      - type: drop\n        when: {field: level, equals: info}"),
            environment: ["HASH_KEY": "0123456789abcdef0123"])
        let c = loaded.configuration
        #expect(Set(c.pipeline.processors.map(\.typeName)) == Set(ProcessorConfiguration.typeNames))
        #expect(c.pipeline.processors.count == ProcessorConfiguration.typeNames.count)
        #expect(c.sinks[0].pipeline.processors.map(\.typeName) == ["drop"])
        if let es = c.sinks[0].kind as? ElasticsearchSinkConfiguration { #expect(es.pipeline == "geoip") } else { Issue.record("not elasticsearch") }
        let described = loaded.effectiveYAML()
        #expect(described.contains("pipeline: [cri, json, regex"))
        #expect(!described.contains("0123456789abcdef0123"))
    }

    @Test func processorErrorsNameTheKeyAndLine() {
        let found = issues(Self.yaml(pipeline: """
              - type: json
              - type: regex
                pattern: "(unclosed"
              - type: nope
              - type: route
                rules:
                  - when: {field: a, equals: b}
                    sinks: [missing]
              - type: cri
              - type: timestamp
                format: "%Q"
              - type: filter
                when: {field: a, equals: b, in: [c]}
              - type: redact
                mode: hash
            """))
        let byPath = Dictionary(found.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byPath["pipeline[1]"]?.message.contains("regex") == true)
        #expect(byPath["pipeline[1]"]?.line == 9)
        #expect(byPath["pipeline[2].type"]?.message.contains("unknown processor type 'nope'") == true)
        #expect(byPath["pipeline[3]"]?.message.contains("'missing'") == true)
        #expect(byPath["pipeline[4]"]?.message.contains("cri must be the first") == true)
        #expect(byPath["pipeline[5].format"]?.message.contains("%Q") == true)
        #expect(byPath["pipeline[6].when"]?.message.contains("exactly one test") == true)
        #expect(byPath["pipeline[7]"]?.message.contains("hash") == true)
    }

    /// Fuzzing found a metric declared twice with different labels passing `check` and then
    /// stopping `run` when the gateway built the pipelines (Fuzz/Corpus/config/metric-declared-twice:
    /// this file, its `${file:}` read from the environment as the fuzz target does).
    @Test func aMetricDeclaredTwiceDifferentlyIsAConfigurationError() {
        let yaml = """
            #
            source:
             kafka:
              connection_string: ${env:/run/secrets/eventhubs}
            spool:
             path:
            pipeline:
              - type: metrics
                metrics:
                  - name: log_errors_total
                    type: counter
                    labels:
                     e: k
              - type: metrics
                metrics:
                  - name: log_errors_total
                    type: counter
            sinks:
             i:
                type: loki
                endpoints: [http://]
            """
        let eventHubs = "Endpoint=sb://logs-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0;EntityPath=aks-logs"
        let found = ConfigurationTests().issues(yaml, environment: ["/run/secrets/eventhubs": eventHubs])
        // The fuzzed endpoint `http://` has no host, which endpoint parsing now refuses as well.
        #expect(found.map(\.path) == ["sinks.i.endpoints[0]", ""])
        #expect(found.last?.message == "sink i: pipeline[1] (metrics): metric log_errors_total is declared twice with different types or labels")
    }

    @Test func elasticsearchStillAcceptsAStringPipelineAsItsIngestPipeline() throws {
        let yaml = Self.base + """

            sinks:
              es:
                type: elasticsearch
                endpoints: ["http://127.0.0.1:9200"]
                pipeline: geoip
            """
        let loaded = try LogBridgeConfiguration.parse(yaml: yaml, environment: [:])
        guard let es = loaded.configuration.sinks[0].kind as? ElasticsearchSinkConfiguration else { Issue.record("not elasticsearch"); return }
        #expect(es.pipeline == "geoip")
        #expect(loaded.configuration.sinks[0].pipeline.isEmpty)
    }
}
