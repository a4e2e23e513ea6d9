import Foundation
import LogBridgeCore
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// The Loki sink against the protocol fake: streams from templated labels, fixed distinct
/// timestamps, tenant, retries that Loki de-duplicates, 400 as final with dead letters.
@Suite struct LokiSinkTests {
    func sink(_ endpoints: [String], tenant: String? = "team-a", maxStreams: Int = 1000, compression: HTTPSinkSettings.Compression = .none) throws -> LokiSink {
        var http = HTTPSinkSettings(endpoints: endpoints, compression: compression, requestTimeout: .seconds(60))  // generous: see the HEC tests
        http.ejectionTime = .seconds(30)
        let configuration = LokiSinkConfiguration(
            http: http,
            labels: [
                .init(name: "job", template: try FieldTemplate("logbridge")),
                .init(name: "namespace", template: try FieldTemplate("{kubernetes.namespace_name}")),
            ],
            tenantID: tenant, maxStreams: maxStreams)
        return try LokiSink(name: "loki", configuration: configuration, logger: Logger(label: "loki-test"))
    }

    /// Records of five namespaces, all in the same millisecond.
    static func records(_ count: Int) -> RecordBatch {
        var batch = TestBatches.batch((0..<count).map { #"{"log":"line \#($0 / 2)","kubernetes":{"namespace_name":"ns\#($0 % 5)"}}"# })
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in batch.records.indices { batch.records[i].timestampMs = now }
        return batch
    }

    @Test func entriesFormStreamsFromLabelsWithDistinctFixedTimestamps() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url], compression: .gzip)
        let batch = Self.records(100)
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.isEmpty)
        let entries = loki.entries
        #expect(entries.count == 100, "equal timestamps and equal lines in one stream are still all kept")
        #expect(Set(entries.map(\.labels)).count == 5)
        #expect(entries.contains { $0.labels == #"{job="logbridge", namespace="ns3"}"# })
        #expect(Set(entries.map(\.timestamp)).count == 100)

        // A retry or replay sends identical entries: Loki skips them all.
        _ = try await sink.deliver(batch)
        #expect(loki.entries.count == 100)
        #expect(loki.duplicatesSkipped == 100)
        await sink.close()
        await loki.shutdown()
    }

    @Test func rateLimitsAndFailuresAfterStoringAreRetriedWithoutDuplicates() async throws {
        let loki = try await FakeLoki()
        loki.inject(.status(429, retryAfter: "1"), .storeThenFail, .status(503), .drop)
        let sink = try sink([loki.url])
        let delivery = try await sink.deliver(Self.records(40))
        #expect(delivery.deadLetters.isEmpty)
        #expect(loki.entries.count == 40)
        #expect(loki.duplicatesSkipped == 40, "the batch stored before the 500 was sent again and de-duplicated")
        #expect(loki.pushes == 5)
        await sink.close()
        await loki.shutdown()
    }

    @Test func a400IsFinalTheRefusedEntriesAreDeadLetteredAndTheRestStored() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url])
        var batch = Self.records(40)
        batch.records[13].timestampMs = 86_400_000  // 1970: older than reject_old_samples_max_age
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.count == 1)
        #expect(delivery.deadLetters.first?.offset == 13)
        #expect(delivery.deadLetters.first?.reason.contains("timestamp too old") == true)
        #expect(loki.entries.count == 39)
        await sink.close()
        await loki.shutdown()
    }

    @Test func aMissingTenantIsHeldNotDropped() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url], tenant: nil)
        let attempt = Task { try await sink.deliver(Self.records(3)) }
        try await Task.sleep(for: .seconds(1))
        attempt.cancel()
        let result = await attempt.result
        #expect(throws: SinkError.self) { try result.get() }
        #expect(loki.entries.isEmpty)
        await sink.close()
        await loki.shutdown()
    }

    @Test func streamsBeyondTheLimitShareAnOverflowStream() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url], maxStreams: 2)
        _ = try await sink.deliver(Self.records(50))
        let streams = Set(loki.entries.map(\.labels))
        #expect(streams.count == 3)
        #expect(streams.contains(#"{job="logbridge", namespace="overflow"}"#))
        #expect(loki.entries.count == 50)
        await sink.close()
        await loki.shutdown()
    }
}
