import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// Records shaped as producers write them (Fluent Bit's kafka output in each `Timestamp_Format`,
/// CRI lines, RFC 3339 with an offset, epoch milliseconds and nanoseconds, no time at all) go
/// through the gateway with no pipeline configured; each store must hold each record's own time,
/// to the millisecond: Elasticsearch's `@timestamp` as Elasticsearch would read it, HEC's `time`,
/// Loki's entry timestamp, and the index name's date.
@Suite(.serialized)
struct EventTimeEndToEndTests {
    /// One record and the event time (ms) each store must show; nil: the Kafka timestamp.
    struct Case {
        var id: String
        var json: String
        var expectedMs: Int64?
    }

    static func cases(base: Int64) -> [Case] {
        // Seconds an hour ago (Loki accepts a week back), one per case.
        func ms(_ n: Int64) -> Int64 { (base + n) * 1000 + 123 }
        func rfc(_ millis: Int64, fraction: String, zone: String = "Z") -> String {
            // 2026-12-03T10:00:01.123Z -> 2026-12-03T10:00:01.<fraction><zone>
            String(Timestamp.rfc3339(millis: millis).dropLast(4)) + fraction + zone
        }
        let kubernetes = #""kubernetes":{"pod_name":"checkout-7d9f8b6c5-x1","namespace_name":"shop","pod_id":"0d7c0a4e-1","host":"aks-nodepool1-0","container_name":"checkout"}"#
        return [
            // Fluent Bit's kafka output, defaults: Timestamp_Key @timestamp, Timestamp_Format double,
            // with the CRI parser's fields and the kubernetes filter's map.
            Case(id: "fluentbit-double", json: #"{"@timestamp":\#(base + 1).123456,"time":"\#(rfc(ms(1), fraction: "123456789"))","stream":"stdout","logtag":"F","log":"GET /healthz 200","id":"fluentbit-double",\#(kubernetes)}"#, expectedMs: ms(1)),
            Case(id: "fluentbit-iso8601", json: #"{"@timestamp":"\#(rfc(ms(2), fraction: "123000"))","stream":"stdout","log":"iso8601","id":"fluentbit-iso8601",\#(kubernetes)}"#, expectedMs: ms(2)),
            Case(id: "fluentbit-iso8601-ns", json: #"{"@timestamp":"\#(rfc(ms(3), fraction: "123456789"))","stream":"stderr","log":"iso8601_ns","id":"fluentbit-iso8601-ns",\#(kubernetes)}"#, expectedMs: ms(3)),
            // @timestamp comes first in the default order, whatever `time` says.
            Case(id: "timestamp-wins", json: #"{"time":"\#(rfc(ms(9), fraction: "999999999"))","@timestamp":\#(base + 4).123,"log":"x","id":"timestamp-wins"}"#, expectedMs: ms(4)),
            Case(id: "cri", json: #"{"time":"\#(rfc(ms(5), fraction: "123456789"))","stream":"stdout","logtag":"F","log":"cri line","id":"cri"}"#, expectedMs: ms(5)),
            Case(id: "offset", json: #"{"timestamp":"\#(rfc(ms(6) + 3_600_000, fraction: "123", zone: "+01:00"))","message":"offset","id":"offset"}"#, expectedMs: ms(6)),
            Case(id: "epoch-ms", json: #"{"ts":\#(ms(7)),"message":"epoch ms","id":"epoch-ms"}"#, expectedMs: ms(7)),
            Case(id: "epoch-ns", json: #"{"ts":\#(ms(8))456789,"message":"epoch ns","id":"epoch-ns"}"#, expectedMs: ms(8)),
            // Unreadable or absent: the Kafka timestamp.
            Case(id: "garbage", json: #"{"@timestamp":"yesterday","ts":42,"message":"no time","id":"garbage"}"#, expectedMs: nil),
        ]
    }

    @Test func eachStoreHoldsTheRecordsOwnTimeToTheMillisecond() async throws {
        let base = Int64(Date().timeIntervalSince1970) - 3600
        let cases = Self.cases(base: base)
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("logs", partitions: 1)
        let producedFrom = Int64(Date().timeIntervalSince1970 * 1000)
        try cluster.produce(topic: "logs", count: cases.count, partitions: 1) { Array(cases[$0].json.utf8) }
        let producedUntil = Int64(Date().timeIntervalSince1970 * 1000)

        let es = try await FakeElasticsearch()
        let hecOptions = FakeSplunkHEC.Options()
        let hec = try await FakeSplunkHEC(options: hecOptions)
        let loki = try await FakeLoki()
        var hecConfiguration = SplunkHECSinkConfiguration(
            http: HTTPSinkSettings(endpoints: [hec.url]), sourcetype: try FieldTemplate("_json"), ackPollInterval: .milliseconds(100))
        hecConfiguration.setToken(hecOptions.token)
        let runner = SinkRunnerConfiguration(batchSize: 100, interval: .milliseconds(50))
        let sinks = [
            SinkConfiguration(
                name: "es", kind: ElasticsearchSinkConfiguration(
                    http: HTTPSinkSettings(endpoints: [es.url]), index: try FieldTemplate("logs-%Y.%m.%d")),
                runner: runner),
            SinkConfiguration(name: "hec", kind: hecConfiguration, runner: runner),
            SinkConfiguration(
                name: "loki", kind: LokiSinkConfiguration(
                    http: HTTPSinkSettings(endpoints: [loki.url]), labels: [.init(name: "job", template: try FieldTemplate("aks"))],
                    tenantID: "team-a"),
                runner: runner),
        ]
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, sinks: sinks)
        defer { harness.directory.remove() }
        let running = try harness.start()
        #expect(await running.wait(timeout: .seconds(60)) {
            ["es", "hec", "loki"].allSatisfy { running.delivered($0) >= cases.count }
        })
        try await running.stop()

        func expected(_ c: Case, _ actual: Int64?) -> Bool {
            guard let actual else { return false }
            if let ms = c.expectedMs { return actual == ms }
            return (producedFrom - 1000...producedUntil + 1000).contains(actual)
        }
        // Elasticsearch: the date its default mapping would index, and the index name's date.
        var esTimes: [String: Int64] = [:]
        for index in es.indexNames {
            for id in es.allIDs {
                guard let document = es.document(index: index, id: id),
                      let object = try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any],
                      let key = object["id"] as? String else { continue }
                esTimes[key] = FakeElasticsearch.indexedDateMillis(object["@timestamp"])
                let day = Timestamp.rfc3339(millis: esTimes[key] ?? 0).prefix(10).replacingOccurrences(of: "-", with: ".")
                #expect(index == "logs-\(day)", "\(key): index named after the event's date")
            }
        }
        // HEC: `time` in seconds with milliseconds.
        var hecTimes: [String: Int64] = [:]
        for event in hec.events {
            guard let object = try JSONSerialization.jsonObject(with: Data(event.object)) as? [String: Any],
                  let body = object["event"] as? [String: Any], let key = body["id"] as? String,
                  let time = object["time"] as? NSNumber else { continue }
            hecTimes[key] = Int64((time.doubleValue * 1000).rounded())
        }
        // Loki: nanoseconds; the sink adds the offset modulo 10^6 below the millisecond.
        var lokiTimes: [String: Int64] = [:]
        for entry in loki.entries {
            guard let object = try JSONSerialization.jsonObject(with: Data(entry.line.utf8)) as? [String: Any],
                  let key = object["id"] as? String, let nanos = Int64(entry.timestamp) else { continue }
            lokiTimes[key] = nanos / 1_000_000
        }
        for c in cases {
            #expect(expected(c, esTimes[c.id]), "elasticsearch \(c.id): \(esTimes[c.id].map(Timestamp.rfc3339) ?? "missing")")
            #expect(expected(c, hecTimes[c.id]), "hec \(c.id): \(hecTimes[c.id].map(Timestamp.rfc3339) ?? "missing")")
            #expect(expected(c, lokiTimes[c.id]), "loki \(c.id): \(lokiTimes[c.id].map(Timestamp.rfc3339) ?? "missing")")
        }
        await es.shutdown()
        await hec.shutdown()
        await loki.shutdown()
    }
}
