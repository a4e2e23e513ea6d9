import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// One gateway consuming two event hubs maps each to its own Elasticsearch index and Splunk
/// index/sourcetype through Kafka metadata (`%kafka.topic`, `%kafka.key`, `%kafka.headers.NAME`),
/// configured in YAML as operators write it, over the mock cluster.
@Suite(.serialized)
struct KafkaMetadataEndToEndTests {
    @Test func twoEventHubsLandInTheirOwnIndexes() async throws {
        let app = 3_000
        let audit = 600
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("app-logs", partitions: 2)
        try cluster.createTopic("audit-logs", partitions: 1)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try cluster.produce(topic: "app-logs", count: app, partitions: 2) { i in
            Array(#"{"time":"\#(Timestamp.rfc3339(millis: now - 1000 + Int64(i)))","log":"app \#(i)"}"#.utf8)
        }
        for i in 0..<audit {
            try cluster.produce(
                topic: "audit-logs", partition: 0, key: Array("tenant-\(i % 3)".utf8),
                value: Array(#"{"time":"\#(Timestamp.rfc3339(millis: now - 1000 + Int64(i)))","operation":"write \#(i)"}"#.utf8),
                headers: [("trace", Array("trace-\(i)".utf8)), ("nothing", nil)])
        }
        try cluster.flush()

        let es = try await FakeElasticsearch()
        let hecOptions = FakeSplunkHEC.Options()
        let hec = try await FakeSplunkHEC(options: hecOptions)
        let yaml = """
            source:
              kafka:
                brokers: ["\(cluster.bootstrapServers)"]
                topics: ["app-logs", "audit-logs"]
            spool:
              path: "/tmp/unused"
            pipeline:
              - type: route
                rules:
                  - when: {field: "%kafka.topic", equals: audit-logs}
                    sinks: [es, splunk-audit]
                default: [es, splunk-app]
            sinks:
              es:
                type: elasticsearch
                endpoints: ["\(es.url)"]
                index: "{%kafka.topic}-%Y.%m.%d"
                interval: 100ms
              splunk-app:
                type: splunk_hec
                endpoints: ["\(hec.url)"]
                token: "\(hecOptions.token)"
                index: app
                sourcetype: "kube:container"
                ack_poll_interval: 100ms
                interval: 100ms
              splunk-audit:
                type: splunk_hec
                endpoints: ["\(hec.url)"]
                token: "\(hecOptions.token)"
                index: audit
                sourcetype: "azure:audit"
                source: "{%kafka.key}"
                fields:
                  trace: "{%kafka.headers.trace}"
                  hub: "{%kafka.topic}/{%kafka.partition}"
                ack_poll_interval: 100ms
                interval: 100ms
            """
        let parsed = try LogBridgeConfiguration.parse(yaml: yaml).configuration
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, topics: ["app-logs", "audit-logs"], sinks: parsed.sinks, pipeline: parsed.pipeline)
        defer { harness.directory.remove() }
        let running = try harness.start()
        #expect(await running.wait(timeout: .seconds(90)) {
            running.delivered("es") >= app + audit && running.delivered("splunk-app") >= app && running.delivered("splunk-audit") >= audit
        })
        try await running.stop()

        let day = Timestamp.rfc3339(millis: now - 1000).prefix(10).replacingOccurrences(of: "-", with: ".")
        var perIndex: [String: Int] = [:]
        for index in es.indexNames {
            perIndex[index] = es.allIDs.filter { es.document(index: index, id: $0) != nil }.count
        }
        #expect(perIndex == ["app-logs-\(day)": app, "audit-logs-\(day)": audit], "one index per event hub: \(perIndex)")

        var byIndex: [String: [[String: Any]]] = [:]
        for event in hec.events {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(event.object)) as? [String: Any])
            byIndex[object["index"] as? String ?? "?", default: []].append(object)
        }
        #expect(byIndex["app"]?.count == app)
        #expect(byIndex["audit"]?.count == audit)
        #expect(byIndex["app"]?.allSatisfy { $0["sourcetype"] as? String == "kube:container" } == true)
        let auditEvents = byIndex["audit"] ?? []
        #expect(auditEvents.allSatisfy { $0["sourcetype"] as? String == "azure:audit" })
        // Each audit event carries its own key and header, matched by its text.
        let matched = auditEvents.filter { object in
            guard let body = object["event"] as? [String: Any], let operation = body["operation"] as? String,
                  let n = Int(operation.dropFirst("write ".count)), let fields = object["fields"] as? [String: Any] else { return false }
            return object["source"] as? String == "tenant-\(n % 3)" && fields["trace"] as? String == "trace-\(n)"
                && fields["hub"] as? String == "audit-logs/0"
        }
        #expect(matched.count == audit)
        await es.shutdown()
        await hec.shutdown()
    }
}
