import Foundation
import LogBridge
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// Mock Kafka -> spool -> Elasticsearch fake, in process and with the real binary killed mid-stream.
@Suite(.serialized)
struct ElasticsearchEndToEndTests {
    @Test func everyRecordIsIndexedOnceAndAPoisonRecordIsDeadLetteredWhileTheRestFlow() async throws {
        let partitions = 4
        let records = 12_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        // Synthetic record 1240 reads "order 1240 placed by jane.doe@..."; make exactly it unindexable.
        let es = try await FakeElasticsearch(poison: "order 1240 placed")
        es.inject(.status(503), .itemFailures(every: 7, status: 429))
        let index = try FieldTemplate("logs-{kubernetes.namespace_name}-%Y.%m.%d")
        let sink = SinkConfiguration(
            name: "es",
            kind: ElasticsearchSinkConfiguration(http: HTTPSinkSettings(endpoints: [es.url]), index: index),
            runner: SinkRunnerConfiguration(batchSize: 500, maxBatchBytes: 1 << 20, interval: .milliseconds(100), concurrency: 4))
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, sinks: [sink])
        defer { harness.directory.remove() }

        let running = try harness.start()
        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(90)) {
            statistics.sink("es").delivered.value + statistics.sink("es").deadLettered.value >= records
        })
        try await running.stop()

        #expect(es.documentCount == records - 1)
        #expect(Set(es.allIDs).count == es.allIDs.count)
        #expect(statistics.sink("es").deadLettered.value == 1)
        let letters = try running.gateway.spool.deadLetters(limit: 10)
        #expect(letters.count == 1)
        #expect(letters.first?.reason.contains("mapper_parsing_exception") == true)
        #expect(letters.first?.stage == "es")
        // Index names come from the records' namespaces (lowercased, sanitised) and their date.
        #expect(Set(es.indexNames.map { $0.split(separator: "-").dropLast().joined(separator: "-") })
            == ["logs-shop", "logs-payments", "logs-identity", "logs-search", "logs-ingress-nginx"])
        await es.shutdown()
    }

    @Test func killNineRestartsNeverIndexAnIDTwice() async throws {
        let partitions = 8
        let records = 40_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        // A loaded cluster (100 ms per bulk) keeps delivery going for several seconds.
        let es = try await FakeElasticsearch(latency: .milliseconds(100))
        let directory = TemporaryDirectory(prefix: "logbridge-es-crash")
        defer { directory.remove() }
        let config = try LogBridgeBinary.writeConfig(in: directory, bootstrap: cluster.bootstrapServers, group: "es-crash", sinks: """
              es:
                type: elasticsearch
                endpoints: ["\(es.url)"]
                index: "logs-%Y.%m.%d"
                batch_size: 250
                interval: 100ms
                concurrency: 4
            """)
        // Mid-delivery: within two seconds of the round's first bulk request, whatever the join took.
        let (_, last) = try await LogBridgeBinary.killRepeatedly(
            config: config, in: directory, rounds: 5, afterMilliseconds: 200...2_000, progress: { es.requests })
        try await LogBridgeBinary.stop(last, when: { es.documentCount >= records })

        let ids = es.allIDs
        #expect(last.terminationStatus == 0, "graceful stop; log: \((try? String(contentsOfFile: directory.file("run-final.log"), encoding: .utf8))?.suffix(3000) ?? "")")
        #expect(es.documentCount == records)
        #expect(Set(ids).count == ids.count, "zero duplicate _ids")
        // Replays after each crash were answered 409 and counted as delivered, not indexed again.
        print("elasticsearch fake: \(es.documentCount) documents, \(es.conflicts) replayed creates answered 409, \(es.requests) requests")
        #expect(es.conflicts > 0, "the kills landed mid-delivery, so some batches were sent again")
        await es.shutdown()
    }
}
