import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeDelivery
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
    /// ~320 bytes each: ~4 MB through a 2.5 MiB spool.
    static let records = 12_000

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
            SinkConfiguration(name: "splunk", kind: hec, runner: runner),
            SinkConfiguration(name: "es", kind: ElasticsearchSinkConfiguration(http: http(peers.es.url)), runner: runner),
            SinkConfiguration(name: "loki", kind: loki, runner: runner, backlog: lokiBacklog),
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
            bootstrap: cluster.bootstrapServers, spoolMaxBytes: 5 << 19,
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
        #expect(statistics.spool.spooled.value == Self.records)
        #expect(statistics.source.pausedPartitions.value == 0)
        let skipped = statistics.sink("loki").skipped.value
        #expect(skipped > 0)

        // Loki is back: it receives what was not skipped, once.
        peers.loki.setOutage(nil)
        #expect(await running.wait(timeout: .seconds(30)) {
            statistics.sink("loki").skipped.value + peers.loki.entries.count >= Self.records
        })
        // Time for a record sent twice to arrive before the counts are read.
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
            bootstrap: cluster.bootstrapServers, spoolMaxBytes: 5 << 19,
            // Uncompressed, so that the records fill the small spool (compressed, they would fit).
            spoolCompression: .none,
            // Limits without skip_oldest only measure: lossless.
            sinks: try sinks(peers, lokiBacklog: SinkBacklogLimit(maxBytes: 512 << 10)))
        defer { harness.directory.remove() }
        let running = try harness.start()
        let statistics = running.statistics

        // Loki down: its backlog fills the spool and Kafka pauses for every sink.
        #expect(await running.wait(timeout: .seconds(60)) { statistics.source.pausedPartitions.value > 0 })
        // A while paused: nothing more may be spooled or delivered.
        try await Task.sleep(for: .seconds(1))
        #expect(statistics.spool.spooled.value < Self.records, "the spool holds Loki's backlog: the rest waits in Kafka")
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

/// `kill -9` while a `skip_oldest` sink is being skipped: each restart finds the spool consistent,
/// the blocking sink loses and duplicates nothing, and the skipping sink's cursor and the trimmed
/// log agree (its backlog stays within its limit across the crashes).
@Suite(.serialized)
struct SinkIsolationCrashTests {
    @Test func killNineWhileSkippingLeavesTheBlockingSinkExactAndTheSpoolTrimmed() async throws {
        let partitions = 8
        let records = 16_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let directory = TemporaryDirectory(prefix: "logbridge-skip-crash")
        defer { directory.remove() }
        let output = directory.file("events.ndjson")
        // Nothing listens on the secondary's port: every delivery is refused, so it only ever skips.
        let dead = "http://127.0.0.1:9"
        let config = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "skip-crash-test",
            sinks: """
                  archive:
                    type: file
                    path: "\(output)"
                    batch_size: 2000
                  secondary:
                    type: loki
                    endpoints: ["\(dead)"]
                    labels: {job: test}
                    max_backoff: 1s
                    backlog: {max_bytes: "256KiB", when_full: skip_oldest}
                """,
            // The dead sink never catches up: the final stop need not wait the default 30 s for it.
            extra: "shutdown_timeout: 1s", spoolMaxBytes: "16MiB")
        let (kills, last) = try await LogBridgeBinary.killRepeatedly(config: config, in: directory, rounds: 3, afterMilliseconds: 400...1_500)
        try await LogBridgeBinary.stop(last, when: { DeliveryAudit(files: [output]).lines >= records })

        let audit = DeliveryAudit(files: [output])
        #expect(kills == 3)
        #expect(last.terminationStatus == 0, "graceful stop exits 0")
        #expect(audit.unique == records, "\(audit)")
        #expect(audit.duplicates == 0, "\(audit)")
        #expect(audit.malformed == 0, "\(audit)")
        let stats = try SpoolInspector(path: directory.file("spool")).stats()
        let secondary = try #require(stats.sinks.first { $0.name == "secondary" })
        #expect(secondary.cursor > 0, "the secondary was skipped")
        // Within its limit (~800 records of ~320 bytes), give or take one spool transaction.
        #expect(secondary.backlog < 4_000, "\(secondary.backlog) records held for the dead sink")
        #expect(stats.records == secondary.backlog, "the log is trimmed up to the skipped cursor")
    }
}
