import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// The Elasticsearch sink against the protocol fake: idempotent creates, per-item retries,
/// dead letters, splitting, endpoint ejection, gzip and auth.
@Suite struct ElasticsearchSinkTests {
    func sink(_ endpoints: [String], compression: HTTPSinkSettings.Compression = .none,
              auth: HTTPSinkSettings.Authentication = .none, timeout: Duration = .seconds(60)) throws -> ElasticsearchSink {
        // A generous timeout unless a test is about timeouts: on a loaded CI machine a short one can
        // expire after the fake answered, and the resend changes the request and conflict counts.
        var http = HTTPSinkSettings(endpoints: endpoints, authentication: auth, compression: compression, requestTimeout: timeout)
        http.ejectionTime = .seconds(30)
        return try ElasticsearchSink(
            name: "es",
            configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs-{kubernetes.namespace_name}-%Y.%m.%d")),
            logger: Logger(label: "es-test"))
    }

    @Test func deliversEveryRecordAndAReplayCreatesNothingTwice() async throws {
        let es = try await FakeElasticsearch()
        let sink = try sink([es.url])
        let batch = TestBatches.batch(TestBatches.records(200))
        let first = try await sink.deliver(batch)
        #expect(first.deadLetters.isEmpty)
        #expect(es.documentCount == 200)
        #expect(es.indexNames == ["logs-shop-2026.11.18"], "index from an event field, lowercased, and the event date")
        let doc = try #require(es.document(index: "logs-shop-2026.11.18", id: "logs-1-7"))
        #expect(String(decoding: doc, as: UTF8.self).hasPrefix(#"{"@timestamp":"2026-11-18T11:06:40.000Z","log":"line 7 ""#))

        // The same batch again (a crash before the cursor moved): 409s, counted as delivered.
        let replay = try await sink.deliver(batch)
        #expect(replay.deadLetters.isEmpty)
        #expect(es.documentCount == 200)
        #expect(es.conflicts == 200)
        await sink.close()
        await es.shutdown()
    }

    @Test func itemsRejectedWith429AreRetriedAloneAndPoisonGoesToTheDeadLetters() async throws {
        let es = try await FakeElasticsearch(poison: "POISON")
        es.inject(.itemFailures(every: 3, status: 429))
        let sink = try sink([es.url])
        let batch = TestBatches.batch(TestBatches.records(90) { $0 == 41 ? "POISON" : "" })
        let delivery = try await sink.deliver(batch)
        #expect(es.documentCount == 89)
        #expect(es.requests == 2, "one bulk, then only the 30 items that got 429")
        #expect(delivery.deadLetters.count == 1)
        let letter = try #require(delivery.deadLetters.first)
        #expect(letter.offset == 41)
        #expect(letter.status == "400")
        #expect(letter.reason.contains("mapper_parsing_exception"))
        #expect(letter.stage == "es")
        #expect(String(decoding: letter.payload, as: UTF8.self).contains("POISON"))
        await sink.close()
        await es.shutdown()
    }

    @Test func overloadAndOutagesAreRetriedHonouringRetryAfter() async throws {
        let es = try await FakeElasticsearch()
        es.inject(.status(429, retryAfter: "1"), .status(503), .drop, .slow(.seconds(3)))
        let sink = try sink([es.url], timeout: .seconds(1))
        let start = ContinuousClock.now
        let delivery = try await sink.deliver(TestBatches.batch(TestBatches.records(50)))
        let elapsed = ContinuousClock.now - start
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.documentCount == 50)
        // Five requests: the four faults (they go to requests in the order the fake handles them,
        // and none indexes), then the one that indexes. On a machine loaded enough that a
        // successful answer outlives the 1 s timeout, the request is sent again and its 50
        // documents answer as conflicts: the count stays exact either way.
        #expect(es.requests == 5 + es.conflicts / 50)
        #expect(elapsed >= .seconds(1), "waited at least Retry-After")
        await sink.close()
        await es.shutdown()
    }

    @Test func aTooLargeRequestIsSplit() async throws {
        let es = try await FakeElasticsearch()
        es.inject(.status(413), .status(413))
        let sink = try sink([es.url])
        let delivery = try await sink.deliver(TestBatches.batch(TestBatches.records(40)))
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.documentCount == 40)
        #expect(es.requests == 5, "413, then halves: 413 again for the first, its halves, then the second half")
        await sink.close()
        await es.shutdown()
    }

    /// One pass per record finds validity, `@timestamp` and the index field; each shape of record
    /// must come out as the three separate scans made it.
    @Test func documentsAndIndexNamesForEveryShapeOfRecord() async throws {
        let es = try await FakeElasticsearch()
        let sink = try sink([es.url])
        let values = [
            #"{"@timestamp":"2026-01-02T03:04:05Z","kubernetes":{"namespace_name":"Pay"},"log":"kept"}"#,
            #"{ "kubernetes" : { "pod" : "p", "namespace_name" : "Web" } , "log" : "spaced" } "#,
            "{}",
            #"{"kubernetes":{"namespace_name":"Ops"},"log":"bad \x escape"}"#,
            #"{"x":{"@timestamp":"nested, not top level"},"kubernetes":{"namespace_name":7}}"#,
            "[1,2]",
        ]
        // As the runner hands it over: each record's event time found (`source.event_time_fields`).
        var batch = TestBatches.batch(values)
        var eventTime = EventTimeFields.default.makeResolver()
        eventTime.stamp(&batch)
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.isEmpty)
        func document(_ index: String, _ offset: Int) -> String? {
            es.document(index: index, id: "logs-1-\(offset)").map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(document("logs-pay-2026.01.02", 0) == values[0], "a document with an RFC 3339 @timestamp goes as it is")
        #expect(document("logs-web-2026.11.18", 1) == #"{"@timestamp":"2026-11-18T11:06:40.000Z","kubernetes" : { "pod" : "p", "namespace_name" : "Web" } , "log" : "spaced" } "#)
        #expect(document("logs-unknown-2026.11.18", 2) == #"{"@timestamp":"2026-11-18T11:06:40.000Z"}"#)
        // Invalid JSON becomes a message; its index still comes from the field the lookup finds.
        #expect(document("logs-ops-2026.11.18", 3) == #"{"@timestamp":"2026-11-18T11:06:40.000Z","message":"{\"kubernetes\":{\"namespace_name\":\"Ops\"},\"log\":\"bad \\x escape\"}"}"#)
        #expect(document("logs-7-2026.11.18", 4)?.hasPrefix(#"{"@timestamp":"2026-11-18T11:06:40.000Z","x":"#) == true)
        #expect(document("logs-unknown-2026.11.18", 5) == #"{"@timestamp":"2026-11-18T11:06:40.000Z","message":"[1,2]"}"#)
        #expect(es.documentCount == 6)
        await sink.close()
        await es.shutdown()
    }

    /// Elasticsearch reads a number as epoch milliseconds: a `@timestamp` in seconds (Fluent Bit's
    /// default) or one that is not the event time is replaced by the event time in RFC 3339; an
    /// RFC 3339 string for the event time stays as written (its nanoseconds and offset kept).
    @Test func atTimestampCarriesTheEventTimeAsElasticsearchReadsIt() async throws {
        let es = try await FakeElasticsearch()
        let sink = try sink([es.url])
        let values = [
            #"{"@timestamp":1763632800.123456,"log":"fluent bit double"}"#,
            #"{"log":"string of seconds","@timestamp":"1763632800.5"}"#,
            #"{"@timestamp":"2025-11-20T12:00:00.123456789+02:00","log":"iso with an offset"}"#,
            #"{"time":"2025-11-20T10:00:00.250Z","@timestamp":"garbage","log":"time wins"}"#,
        ]
        var batch = TestBatches.batch(values)
        var eventTime = EventTimeFields.default.makeResolver()
        eventTime.stamp(&batch)
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.isEmpty)
        func indexed(_ offset: Int) -> (String, Int64?)? {
            for index in es.indexNames {
                if let document = es.document(index: index, id: "logs-1-\(offset)") {
                    let object = try? JSONSerialization.jsonObject(with: Data(document)) as? [String: Any]
                    return (String(decoding: document, as: UTF8.self), FakeElasticsearch.indexedDateMillis(object?["@timestamp"]))
                }
            }
            return nil
        }
        #expect(indexed(0)?.0 == #"{"@timestamp":"2025-11-20T10:00:00.123Z","log":"fluent bit double"}"#)
        #expect(indexed(0)?.1 == 1_763_632_800_123)
        #expect(indexed(1)?.0 == #"{"log":"string of seconds","@timestamp":"2025-11-20T10:00:00.500Z"}"#)
        #expect(indexed(2)?.0 == values[2])
        #expect(indexed(2)?.1 == 1_763_632_800_123)
        #expect(indexed(3)?.0 == #"{"time":"2025-11-20T10:00:00.250Z","@timestamp":"2025-11-20T10:00:00.250Z","log":"time wins"}"#)
        #expect(es.indexNames == ["logs-unknown-2025.11.20"], "named after the event time, not the Kafka timestamp")
        await sink.close()
        await es.shutdown()
    }

    @Test func aDeadEndpointIsEjectedAndBatchesGoToTheHealthyOne() async throws {
        let es = try await FakeElasticsearch()
        let dead = "http://127.0.0.1:1"  // nothing listens on port 1
        let sink = try sink([dead, es.url])
        for round in 0..<6 {
            let delivery = try await sink.deliver(TestBatches.batch(TestBatches.records(10), from: Int64(round * 10)))
            #expect(delivery.deadLetters.isEmpty)
        }
        #expect(es.documentCount == 60)
        #expect(es.requests == 6, "every batch reached the healthy endpoint once")
        await sink.close()
        await es.shutdown()
    }

    @Test func gzipAndBasicAuthAreUnderstood() async throws {
        let es = try await FakeElasticsearch(basicAuth: ("elastic", "changeme"))
        let sink = try sink([es.url], compression: .gzip, auth: .basic(user: "elastic", password: "changeme"))
        let delivery = try await sink.deliver(TestBatches.batch(TestBatches.records(100) + ["not json at all"]))
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.documentCount == 101)
        #expect(es.gzipRequests == 1)
        let plain = try #require(es.document(index: "logs-unknown-2026.11.18", id: "logs-1-100"))
        #expect(String(decoding: plain, as: UTF8.self) == #"{"@timestamp":"2026-11-18T11:06:40.000Z","message":"not json at all"}"#)
        await sink.close()
        await es.shutdown()
    }
}

@Suite struct HTTPMachineryTests {
    @Test func endpointsAreEjectedAfterRepeatedFailuresAndProbedBackIn() {
        let pool = EndpointPool(urls: ["a", "b"], ejectAfterFailures: 2, ejectionTime: .seconds(10))
        let start = ContinuousClock.now
        let a = pool.endpoints[0]
        #expect(pool.next(now: start).url == "a")
        #expect(pool.next(now: start).url == "b")
        #expect(!pool.reportFailure(a, now: start))
        #expect(pool.reportFailure(a, now: start))
        #expect((0..<4).map { _ in pool.next(now: start).url } == ["b", "b", "b", "b"])
        // After the ejection time: one probe goes to a; while it is out, b takes the rest.
        let later = start + .seconds(11)
        let picks = (0..<3).map { _ in pool.next(now: later).url }
        #expect(picks.filter { $0 == "a" }.count == 1)
        pool.reportSuccess(a)
        #expect(pool.isHealthy(a, now: later))
    }

    @Test func retryAfterReadsSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        #expect(RetryAfter.delay("7", now: now) == .seconds(7))
        #expect(RetryAfter.delay("100000", now: now) == .seconds(300))
        #expect(RetryAfter.delay("Wed, 18 Nov 2026 11:07:00 GMT", now: now) == .seconds(20))
        #expect(RetryAfter.delay("soon", now: now) == nil)
        #expect(RetryAfter.delay(nil, now: now) == nil)
    }

    /// Fuzzing found Foundation's `DateFormatter` stopping the process on a `Retry-After` that is
    /// not a date (Fuzz/Corpus/loki-response/retry-after-combining-mark: `m` and a combining mark,
    /// the header of a 500), so one answer from a server or proxy could crash the gateway.
    @Test func retryAfterThatIsNotADateIsIgnored() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        #expect(RetryAfter.delay("m\u{05B3}", now: now) == nil)
        #expect(RetryAfter.delay("\u{05B3}Wed, 18 Nov 2026 11:07:00 GMT", now: now) == nil)
        #expect(RetryAfter.delay("Wed, 18 Nov 2026 11:07:00 GMT\u{05B3}", now: now) == nil)
        #expect(RetryAfter.delay("Wed, 31 Nov 2026 11:07:00 GMT", now: now) == nil)
        #expect(RetryAfter.delay("Wed, 18 Nov 2026 11:07:00 GMT", now: now) == .seconds(20))
    }

    @Test func gzipRoundTrips() {
        let input = Array(String(repeating: #"{"log":"hello world"}"#, count: 1000).utf8)
        let compressed = Gzip.compress(input)
        #expect(compressed.count < input.count / 10)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        #expect(Gzip.decompress(compressed) == input)
        #expect(Gzip.decompress([1, 2, 3]) == nil)
    }

    @Test func templatesReadFieldsAndTheEventDate() throws {
        let template = try FieldTemplate("k8s-{kubernetes.namespace_name}-{missing}-%Y.%m.%d-%H")
        let value = Array(#"{"log":"x","kubernetes":{"pod":{"a":[1,{"b":2}]},"namespace_name":"payments"}}"#.utf8)
        let rendered = value.withUnsafeBytes { template.render(value: $0, timestampMs: 1_795_000_000_000) }
        #expect(rendered == "k8s-payments-unknown-2026.11.18-11")
        #expect(throws: TemplateError.self) { try FieldTemplate("logs-%q") }
        #expect(throws: TemplateError.self) { try FieldTemplate("logs-{unclosed") }
    }
}

/// The fake keeps ids as Elasticsearch does: per index, a `create` of an id the index holds is a
/// 409 (within one request too), an `index` overwrites, and malformed actions refuse the request.
@Suite struct FakeElasticsearchTests {
    static func bulk(_ es: FakeElasticsearch, _ lines: [String], path: String = "/_bulk") async throws -> (Int, String) {
        let transport = try HTTPTransport(settings: HTTPSinkSettings(endpoints: [es.url]), logger: Logger(label: "es-fake-test"))
        defer { Task { await transport.shutdown() } }
        let response = try await transport.post(
            EndpointPool(urls: [es.url], ejectAfterFailures: 3, ejectionTime: .seconds(1)).next(), path: path,
            contentType: "application/x-ndjson", body: Array(lines.map { $0 + "\n" }.joined().utf8), headers: [])
        return (response.status, response.bodyText)
    }

    static func create(_ index: String, _ id: String, _ n: Int) -> [String] {
        [#"{"create":{"_index":"\#(index)","_id":"\#(id)"}}"#, #"{"n":\#(n)}"#]
    }

    /// Thousands of ids of every length, sharing prefixes and digests' low bits: each is stored
    /// once, every replay is a conflict, and the stored ids read back as they were written.
    @Test func manyIDsAreEachStoredOnceAndEveryReplayConflicts() async throws {
        let es = try await FakeElasticsearch(keepDocuments: false)
        let ids = (0..<6_000).map { n in n % 3 == 0 ? "\(n)" : n % 3 == 1 ? "logs-\(n % 97)-\(n)" : String(repeating: "x", count: n % 40) + "-\(n)" }
        for chunk in stride(from: 0, to: ids.count, by: 1_500) {
            let lines = ids[chunk..<min(chunk + 1_500, ids.count)].enumerated().flatMap { Self.create("a", $0.element, $0.offset) }
            #expect(try await Self.bulk(es, lines).0 == 200)
        }
        #expect(es.documentCount == ids.count)
        #expect(es.conflicts == 0)
        #expect(Set(es.allIDs) == Set(ids))
        let replay = try await Self.bulk(es, ids.prefix(2_000).enumerated().flatMap { Self.create("a", $0.element, $0.offset) })
        #expect(replay.0 == 200)
        #expect(es.conflicts == 2_000)
        #expect(es.documentCount == ids.count)
        await es.shutdown()
    }

    @Test func idsAreKeptPerIndexAcrossInterleavedIndicesAndRequests() async throws {
        let es = try await FakeElasticsearch()
        let first = try await Self.bulk(es, Self.create("a", "1", 1) + Self.create("b", "1", 2) + Self.create("a", "2", 3)
            + Self.create("a", "1", 4) + [#"{"index":{"_index":"b","_id":"1"}}"#, #"{"n":5}"#])
        #expect(first.0 == 200)
        let statuses = first.1.components(separatedBy: #""status":"#).dropFirst().map { $0.prefix(3) }
        #expect(statuses == ["201", "201", "201", "409", "201"], "the same id in another index is no conflict; index overwrites")
        #expect(first.1.contains(#"{"index":{"_index":"b","_id":"1","status":201}}"#))
        #expect(es.documentCount == 3)
        #expect(es.conflicts == 1)
        #expect(es.indexNames == ["a", "b"])
        #expect(es.document(index: "a", id: "1") == Array(#"{"n":1}"#.utf8), "a refused create leaves the first document")
        #expect(es.document(index: "b", id: "1") == Array(#"{"n":5}"#.utf8))

        let second = try await Self.bulk(es, Self.create("b", "1", 6) + Self.create("b", "3", 7))
        #expect(second.1.contains(#""_id":"1","status":409"#) && second.1.contains(#""_id":"3","status":201"#))
        #expect(es.documentCount == 4)
        #expect(Set(es.allIDs) == ["1", "2", "3"] && es.allIDs.count == 4)

        let pathIndex = try await Self.bulk(es, [#"{"create":{"_id":"9"}}"#, #"{"n":8}"#], path: "/c/_bulk")
        #expect(pathIndex.1.contains(#"{"create":{"_index":"c","_id":"9","status":201}}"#), "no _index: the path's")
        #expect(try await Self.bulk(es, [#"{"delete":{"_id":"9"}}"#, #"{"n":9}"#]).0 == 400)
        #expect(try await Self.bulk(es, [#"{"create":{"_id":"9"}"#, #"{"n":9}"#]).0 == 400, "a truncated action")
        #expect(es.documentCount == 5)
        await es.shutdown()
    }
}
