import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeSpool
import LogBridgeTestKit
import Logging
import Synchronization
import Testing

/// Sink isolation end to end: mock Kafka -> a small spool -> Splunk HEC, Elasticsearch and Loki
/// fakes, with Loki down while every record arrives. With `skip_oldest` on Loki, HEC and
/// Elasticsearch get every record exactly once and Kafka keeps flowing; Loki gets the rest once it
/// is back, and what it got plus what it skipped is every record. With `block` (the default)
/// Kafka pauses until Loki is back, and then every sink gets everything.
@Suite(.serialized)
struct SinkIsolationTests {
    static let partitions = 4
    /// ~320 bytes each: ~5 MB through a 3 MiB spool.
    static let records = 16_000

    struct Peers {
        var hec: FakeSplunkHEC
        var es: FakeElasticsearch
        var loki: FakeLoki
    }

    func sinks(_ peers: Peers, lokiBacklog: SinkBacklogLimit) throws -> [SinkConfiguration] {
        func http(_ url: String) -> HTTPSinkSettings {
            var settings = HTTPSinkSettings(endpoints: [url])
            // Loki comes back within the test: retry at least once a second.
            settings.maxBackoff = .seconds(1)
            return settings
        }
        let runner = SinkRunnerConfiguration(
            batchSize: 500, maxBatchBytes: 1 << 20, interval: .milliseconds(50), maxBackoff: .seconds(1), concurrency: 2)
        var hec = SplunkHECSinkConfiguration(http: http(peers.hec.url), sourcetype: try FieldTemplate("_json"), acknowledgements: false)
        hec.setToken("hec-token")
        let loki = LokiSinkConfiguration(
            http: http(peers.loki.url), labels: [.init(name: "job", template: try FieldTemplate("aks"))], tenantID: "team-a")
        return [
            SinkConfiguration(name: "splunk", kind: .splunkHEC(hec), runner: runner),
            SinkConfiguration(name: "es", kind: .elasticsearch(ElasticsearchSinkConfiguration(http: http(peers.es.url))), runner: runner),
            SinkConfiguration(name: "loki", kind: .loki(loki), runner: runner, backlog: lokiBacklog),
        ]
    }

    func peers() async throws -> Peers {
        var options = FakeSplunkHEC.Options()
        options.acknowledgements = false
        let peers = Peers(hec: try await FakeSplunkHEC(options: options), es: try await FakeElasticsearch(), loki: try await FakeLoki())
        peers.loki.setOutage(503)
        return peers
    }

    @Test func withSkipOldestTheOtherSinksGetEveryRecordOnceWhileLokiIsDown() async throws {
        let cluster = try MockKafkaCluster.seeded(records: Self.records, partitions: Self.partitions)
        let peers = try await peers()
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, spoolMaxBytes: 3 << 20,
            sinks: try sinks(peers, lokiBacklog: SinkBacklogLimit(maxBytes: 512 << 10, whenFull: .skipOldest)))
        defer { harness.directory.remove() }
        let running = try harness.start()
        let statistics = running.statistics

        // Loki stays down until HEC and Elasticsearch have everything: the spool never fills
        // because of Loki, so Kafka keeps being consumed.
        #expect(await running.wait(timeout: .seconds(60)) {
            peers.hec.eventCount >= Self.records && peers.es.documentCount >= Self.records
        })
        #expect(peers.hec.eventCount == Self.records)
        #expect(peers.hec.duplicates == 0)
        #expect(peers.es.documentCount == Self.records)
        #expect(peers.loki.entries.isEmpty, "Loki was down all along")
        #expect(statistics.spooled.value == Self.records)
        #expect(statistics.pausedPartitions.value == 0)
        let skipped = statistics.sink("loki").skipped.value
        #expect(skipped > 0)

        // Loki is back: it receives what was not skipped, once.
        peers.loki.setOutage(nil)
        #expect(await running.wait(timeout: .seconds(30)) {
            statistics.sink("loki").skipped.value + peers.loki.entries.count >= Self.records
        })
        try await Task.sleep(for: .milliseconds(500))
        try await running.stop()
        let lokiSkipped = statistics.sink("loki").skipped.value
        print("sink isolation: loki received \(peers.loki.entries.count), skipped \(lokiSkipped) of \(Self.records)")
        #expect(peers.loki.entries.count + lokiSkipped == Self.records, "received + skipped == sent, exactly")
        #expect(statistics.sink("splunk").skipped.value == 0)
        #expect(statistics.sink("es").skipped.value == 0)
        await peers.hec.shutdown()
        await peers.es.shutdown()
        await peers.loki.shutdown()
    }

    @Test func withBlockNothingIsLostAnywhereOnceLokiIsBack() async throws {
        let cluster = try MockKafkaCluster.seeded(records: Self.records, partitions: Self.partitions)
        let peers = try await peers()
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, spoolMaxBytes: 3 << 20,
            // Limits without skip_oldest only measure: lossless.
            sinks: try sinks(peers, lokiBacklog: SinkBacklogLimit(maxBytes: 512 << 10)))
        defer { harness.directory.remove() }
        let running = try harness.start()
        let statistics = running.statistics

        // Loki down: its backlog fills the spool and Kafka pauses for every sink.
        #expect(await running.wait(timeout: .seconds(60)) { statistics.pausedPartitions.value > 0 })
        try await Task.sleep(for: .seconds(1))
        #expect(statistics.spooled.value < Self.records, "the spool holds Loki's backlog: the rest waits in Kafka")
        #expect(peers.hec.eventCount < Self.records, "so the other sinks wait too")

        peers.loki.setOutage(nil)
        #expect(await running.wait(timeout: .seconds(60)) {
            peers.hec.eventCount >= Self.records && peers.es.documentCount >= Self.records
                && peers.loki.entries.count >= Self.records
        })
        try await running.stop()
        #expect(peers.hec.eventCount == Self.records)
        #expect(peers.hec.duplicates == 0)
        #expect(peers.es.documentCount == Self.records)
        #expect(peers.loki.entries.count == Self.records)
        #expect(statistics.sink("loki").skipped.value == 0)
        await peers.hec.shutdown()
        await peers.es.shutdown()
        await peers.loki.shutdown()
    }
}
