import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// The Loki sink against the protocol fake: streams from templated labels, fixed distinct
/// timestamps, tenant, retries that Loki de-duplicates, 400 as final with dead letters.
@Suite struct LokiSinkTests {
    func sink(
        _ endpoints: [String], tenant: String? = "team-a", maxStreams: Int = 1000, compression: HTTPSinkSettings.Compression = .none,
        metadata: [LokiSinkConfiguration.MetadataField] = [], labels: [LokiSinkConfiguration.Label]? = nil
    ) throws -> LokiSink {
        var http = HTTPSinkSettings(endpoints: endpoints, compression: compression, requestTimeout: .seconds(60))  // generous: see the HEC tests
        http.ejectionTime = .seconds(30)
        let configuration = LokiSinkConfiguration(
            http: http,
            labels: try labels ?? [
                .init(name: "job", template: try FieldTemplate("logbridge")),
                .init(name: "namespace", template: try FieldTemplate("{kubernetes.namespace_name}")),
            ],
            structuredMetadata: metadata, tenantID: tenant, maxStreams: maxStreams)
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

    /// Labels read from one scan of each record: templates that share a top-level member each get
    /// their field; a record cut short after its labels' fields still has them (looked up one by
    /// one, as any malformed record is), and missing fields read `unknown`. A member's first
    /// occurrence counts, spaces between tokens change nothing, and a record that is not valid JSON
    /// only for a later member (a bad escape) keeps its labels.
    @Test func labelsSharingAMemberAndMalformedRecordsGetTheirValues() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url], labels: [
            .init(name: "namespace", template: try FieldTemplate("{kubernetes.namespace_name}")),
            .init(name: "stream", template: try FieldTemplate("{stream}")),
            .init(name: "container", template: try FieldTemplate("{kubernetes.container_name}")),
        ])
        var batch = TestBatches.batch([
            #"{"stream":"stdout","kubernetes":{"namespace_name":"pay","container_name":"api"},"log":"a"}"#,
            #"{"kubernetes":{"container_name":"web","namespace_name":"shop"},"stream":"stderr","log":"b","cut":"#,
            #"{"log":"no labels here"}"#,
            "plain text",
            #"{ "stream" : "stdout" , "stream":"x", "kubernetes" : { "namespace_name" : "dup", "container_name":"api" } }"#,
            #"{"stream":"stderr","stream":"y","kubernetes":{"namespace_name":"bad","container_name":"esc"},"log":"\q"}"#,
        ])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in batch.records.indices { batch.records[i].timestampMs = now }
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.isEmpty)
        #expect(Set(loki.entries.map(\.labels)) == [
            #"{container="api", namespace="pay", stream="stdout"}"#,
            #"{container="web", namespace="shop", stream="stderr"}"#,
            #"{container="unknown", namespace="unknown", stream="unknown"}"#,
            #"{container="api", namespace="dup", stream="stdout"}"#,
            #"{container="esc", namespace="bad", stream="stderr"}"#,
        ])
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

    /// Loki answers 401 "no org id" without `X-Scope-OrgID`: a configuration error, so the batch
    /// stays with the sink, which asks again (5 s apart) instead of dead-lettering or giving up.
    @Test func aMissingTenantIsHeldNotDropped() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url], tenant: nil)
        let attempt = Task { try await sink.deliver(Self.records(3)) }
        // Refused at least twice (the second push comes after the sink's 5 s pause), and the
        // cancellation is what ends the delivery: a sink that gave up would have returned with
        // dead letters, or thrown an error of its own, before it.
        #expect(await eventually(timeout: .seconds(30)) { loki.pushes >= 2 }, "pushes: \(loki.pushes)")
        attempt.cancel()
        let result = await attempt.result
        let error = #expect(throws: SinkError.self) { try result.get() }
        #expect(error?.message.contains("delivery cancelled") == true, "\(String(describing: error))")
        #expect(loki.entries.isEmpty)
        #expect(loki.refusedEntries == 0, "refused for the tenant, never stored or judged")
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

    // MARK: Structured metadata (Loki 3)

    static func metadataFields() throws -> [LokiSinkConfiguration.MetadataField] {
        [
            .init(name: "trace_id", template: try FieldTemplate("{trace_id}")),
            .init(name: "pod_uid", template: try FieldTemplate("{kubernetes.pod_id}")),
            .init(name: "route", template: try FieldTemplate("{http.method} {http.path}")),
        ]
    }

    /// Records with all, some and none of the metadata fields, in the same millisecond.
    static func metadataRecords() -> RecordBatch {
        var batch = TestBatches.batch([
            #"{"log":"a","trace_id":"4bf92f3577b34da6","kubernetes":{"namespace_name":"ns0","pod_id":"9a1c-77"},"http":{"method":"GET","path":"/api"}}"#,
            #"{"log":"b","kubernetes":{"namespace_name":"ns0","pod_id":"9a1c-77"},"http":{"method":"GET"}}"#,
            #"{"log":"c","kubernetes":{"namespace_name":"ns0"}}"#,
            #"{"log":"d","trace_id":"","kubernetes":{"namespace_name":"ns0"}}"#,
            #"{"log":"e","trace_id":1234567,"kubernetes":{"namespace_name":"ns0","pod_id":"b2"}}"#,
        ])
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in batch.records.indices { batch.records[i].timestampMs = now }
        return batch
    }

    @Test func structuredMetadataIsSentPerEntryAndMissingFieldsAreLeftOut() async throws {
        let loki = try await FakeLoki()
        let sink = try sink([loki.url], compression: .gzip, metadata: Self.metadataFields())
        let batch = Self.metadataRecords()
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.isEmpty)
        let byLine = Dictionary(uniqueKeysWithValues: loki.entries.map { (String($0.line.dropFirst(8).prefix(1)), $0) })
        #expect(byLine.count == 5)
        #expect(byLine["a"]?.metadata == ["trace_id": "4bf92f3577b34da6", "pod_uid": "9a1c-77", "route": "GET /api"])
        // A template with one of its fields missing is left out, not sent half-filled or "unknown".
        #expect(byLine["b"]?.metadata == ["pod_uid": "9a1c-77"])
        #expect(byLine["c"]?.metadata == [:], "no field found: the entry has no metadata")
        #expect(byLine["d"]?.metadata == [:], "an empty value counts as missing")
        #expect(byLine["e"]?.metadata == ["trace_id": "1234567", "pod_uid": "b2"], "a number is sent as a string, as Loki requires")
        // Metadata is not part of the stream: the labels are the same for all five.
        #expect(Set(loki.entries.map(\.labels)) == [#"{job="logbridge", namespace="ns0"}"#])

        // A replay is identical, metadata included, and de-duplicated.
        _ = try await sink.deliver(batch)
        #expect(loki.entries.count == 5)
        #expect(loki.duplicatesSkipped == 5)
        await sink.close()
        await loki.shutdown()
    }

    @Test func lokiRefusingStructuredMetadataAnswers400AndOnlyThoseEntriesAreDeadLettered() async throws {
        var options = FakeLoki.Options()
        options.allowStructuredMetadata = false
        let loki = try await FakeLoki(options: options)
        let sink = try sink([loki.url], metadata: Self.metadataFields())
        let delivery = try await sink.deliver(Self.metadataRecords())
        // a, b and e carry metadata: refused for good, with Loki's message; c and d are stored.
        #expect(delivery.deadLetters.map(\.offset).sorted() == [0, 1, 4])
        #expect(delivery.deadLetters.allSatisfy { $0.status.contains("400") })
        #expect(delivery.deadLetters.allSatisfy { $0.reason.contains("includes structured metadata, but this feature is disallowed") })
        #expect(Set(loki.entries.map(\.line)) == [#"{"log":"c","kubernetes":{"namespace_name":"ns0"}}"#, #"{"log":"d","trace_id":"","kubernetes":{"namespace_name":"ns0"}}"#])
        await sink.close()
        await loki.shutdown()
    }

    @Test func metadataOverLokisSizeLimitIsDeadLetteredWithLokisMessage() async throws {
        var options = FakeLoki.Options()
        options.maxStructuredMetadataSize = 64
        let loki = try await FakeLoki(options: options)
        let sink = try sink([loki.url], metadata: Self.metadataFields())
        var values = (0..<6).map { #"{"log":"line \#($0)","trace_id":"t\#($0)","kubernetes":{"namespace_name":"ns1"}}"# }
        values[2] = #"{"log":"line 2","trace_id":"\#(String(repeating: "f", count: 80))","kubernetes":{"namespace_name":"ns1"}}"#
        var batch = TestBatches.batch(values)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in batch.records.indices { batch.records[i].timestampMs = now }
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.map(\.offset) == [2])
        #expect(delivery.deadLetters.first?.reason.contains("has structured metadata too large: '88' bytes, limit: '64' bytes") == true)
        #expect(loki.entries.count == 5)
        #expect(loki.entries.allSatisfy { $0.metadata["trace_id"]?.hasPrefix("t") == true })
        await sink.close()
        await loki.shutdown()
    }
}

/// The fake reads structured metadata as Loki 3's push decoder does.
@Suite struct FakeLokiTests {
    static func post(_ loki: FakeLoki, _ body: String) async throws -> (Int, String) {
        let transport = try HTTPTransport(settings: HTTPSinkSettings(endpoints: [loki.url]), logger: Logger(label: "loki-fake-test"))
        defer { Task { await transport.shutdown() } }
        let response = try await transport.post(
            EndpointPool(urls: [loki.url], ejectAfterFailures: 3, ejectionTime: .seconds(1)).next(), path: "/loki/api/v1/push",
            contentType: "application/json", body: Array(body.utf8), headers: [("X-Scope-OrgID", "team-a")])
        return (response.status, response.bodyText)
    }

    static func push(_ entries: String) -> String {
        #"{"streams":[{"stream":{"job":"gw"},"values":[\#(entries)]}]}"#
    }

    @Test func metadataMustBeAnObjectOfStringsInTheThirdPlace() async throws {
        let loki = try await FakeLoki()
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let ns = (0..<6).map { String(now + $0) }
        #expect(try await Self.post(loki, Self.push(#"["\#(ns[0])","a",{"trace_id":"abc"}]"#)).0 == 204)
        #expect(try await Self.post(loki, Self.push(#"["\#(ns[1])","b",{}]"#)).0 == 204, "an empty object is no metadata")
        #expect(try await Self.post(loki, Self.push(#"["\#(ns[2])","c",{"n":1}]"#)).0 == 400)
        #expect(try await Self.post(loki, Self.push(#"["\#(ns[3])","d",{"o":{"x":"y"}}]"#)).0 == 400)
        #expect(try await Self.post(loki, Self.push(#"["\#(ns[4])","e",["trace_id","abc"]]"#)).0 == 400)
        #expect(try await Self.post(loki, Self.push(#"["\#(ns[5])","f",{"a":"b"},{"c":"d"}]"#)).0 == 400)
        #expect(loki.entries.map(\.line) == ["a", "b"], "a parse error refuses the whole request")
        #expect(loki.entries.map(\.metadata) == [["trace_id": "abc"], [:]])
        await loki.shutdown()
    }

    /// Loki refuses an entry over an hour behind its stream's newest, per stream, whatever order
    /// the streams come in within a request.
    @Test func entriesTooFarBehindTheirStreamAreRefused() async throws {
        let loki = try await FakeLoki()
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        let hour: Int64 = 3_600_000_000_000
        func stream(_ job: String, _ ns: Int64, _ line: String) -> String {
            #"{"stream":{"job":"\#(job)"},"values":[["\#(ns)","\#(line)"]]}"#
        }
        func push(_ streams: String...) -> String { #"{"streams":[\#(streams.joined(separator: ","))]}"# }
        #expect(try await Self.post(loki, push(stream("a", now, "a1"))).0 == 204)
        #expect(try await Self.post(loki, push(stream("b", now - 2 * hour, "b1"), stream("a", now + 1_000_000_000, "a2"))).0 == 204)
        let behind = try await Self.post(loki, push(stream("a", now - hour, "a3"), stream("b", now - 2 * hour - hour / 2, "b2")))
        #expect(behind.0 == 400 && behind.1.contains("entry too far behind"), "a's newest is now + 1 s, from the second push")
        #expect(loki.entries.map(\.line) == ["a1", "b1", "a2", "b2"], "b's newest is its own, 2 h ago")
        let bBehind = try await Self.post(loki, push(stream("b", now - 3 * hour - hour / 2, "b3")))
        #expect(bBehind.0 == 400, "b's newest (2 h ago) was kept though a's entries followed it in the second push")
        await loki.shutdown()
    }
}
