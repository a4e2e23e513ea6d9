import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// One record is one document whatever its bytes: pretty-printed JSON (raw CR/LF between tokens),
/// a record shaped to smuggle a bulk action, invalid UTF-8; and an Elasticsearch answer that breaks
/// the bulk protocol is handled with a bounded policy. Against the real sinks and the fakes.
@Suite struct HostileRecordTests {
    /// A valid JSON object whose raw newlines, copied into a bulk body as they are, make lines that
    /// read as actions of its own (`index` into `stolen`, `create` into `stolen2`).
    static let smuggler = "{\"log\":\"hello\",\"a\":\n{\"index\":{\"_index\":\"stolen\"}}\n,\"b\":\r\n{\"create\":{\"_index\":\"stolen2\",\"_id\":\"x\"}}\n}"
    /// A JSON object whose only fault is a stray byte (0xFF) and a truncated sequence (0xC3) in a string.
    static let badUTF8: [UInt8] = Array(#"{"log":"caf"#.utf8) + [0xC3] + Array(" ok ".utf8) + [0xFF] + Array(#"","kubernetes":{"namespace_name":"shop"}}"#.utf8)

    func elasticsearch(_ url: String, statistics: SinkStatistics = SinkStatistics(name: "es")) throws -> ElasticsearchSink {
        var http = HTTPSinkSettings(endpoints: [url], requestTimeout: .seconds(60))
        http.ejectionTime = .seconds(30)
        return try ElasticsearchSink(
            name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs-%Y.%m.%d")),
            statistics: statistics, logger: Logger(label: "es-test"))
    }

    @Test func aRecordShapedToSmuggleABulkActionIsOneDocumentInTheConfiguredIndex() async throws {
        #expect(Self.smuggler.utf8.withContiguousStorageIfAvailable { JSONBytes.isValid(UnsafeRawBufferPointer($0)) } == true)
        let es = try await FakeElasticsearch()
        let sink = try elasticsearch(es.url)
        let delivery = try await sink.deliver(TestBatches.batch([Self.smuggler, #"{"log":"next"}"#]))
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.indexNames == ["logs-2026.11.18"], "no index of the record's choosing")
        #expect(es.documentCount == 2)
        let document = try #require(es.document(index: "logs-2026.11.18", id: "logs-1-0"))
        #expect(!document.contains(0x0A) && !document.contains(0x0D))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any])
        #expect(parsed["log"] as? String == "hello")
        #expect((parsed["a"] as? [String: Any])?["index"] != nil, "the record's content is kept, as data")

        // The sink keeps delivering.
        let next = try await sink.deliver(TestBatches.batch(TestBatches.records(50), from: 2))
        #expect(next.deadLetters.isEmpty)
        #expect(es.documentCount == 52)
        await sink.close()
        await es.shutdown()
    }

    @Test func aBulkAnswerWithAnExtraItemIsRetriedThenDelivered() async throws {
        let es = try await FakeElasticsearch()
        es.inject(.extraItem)
        let statistics = SinkStatistics(name: "es")
        let sink = try elasticsearch(es.url, statistics: statistics)
        let delivery = try await sink.deliver(TestBatches.batch(TestBatches.records(20)))
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.documentCount == 20)
        #expect(es.requests == 2, "the chunk sent again whole; create + _id made the resend harmless")
        #expect(statistics.failures.value == 1)
        await sink.close()
        await es.shutdown()
    }

    @Test func aBulkAnswerThatAlwaysBreaksTheProtocolEndsInDeadLettersNotAnEndlessRetry() async throws {
        let es = try await FakeElasticsearch()
        for _ in 0..<100 { es.inject(.extraItem) }
        let sink = try elasticsearch(es.url)
        let delivery = try await sink.deliver(TestBatches.batch(TestBatches.records(4)))
        // 1 + 3 whole attempts, then halves (2), then single records (4), one attempt each.
        #expect(es.requests == 10)
        #expect(delivery.deadLetters.count == 4)
        #expect(delivery.deadLetters.allSatisfy { $0.reason.contains("protocol error") && $0.reason.contains("5 bulk items for 4 actions") || $0.reason.contains("2 bulk items for 1 actions") })
        await sink.close()
        await es.shutdown()
    }

    @Test func invalidUTF8IsReplacedAndTheRecordKeepsItsFieldsInElasticsearch() async throws {
        let es = try await FakeElasticsearch()
        let statistics = SinkStatistics(name: "es")
        let sink = try elasticsearch(es.url, statistics: statistics)
        let text: [UInt8] = Array("plain ".utf8) + [0xE2, 0x82] + Array(" text".utf8)
        let delivery = try await sink.deliver(TestBatches.batch(bytes: [Self.badUTF8, text, Array(#"{"log":"fine"}"#.utf8)]))
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.documentCount == 3)
        let first = try #require(es.document(index: "logs-2026.11.18", id: "logs-1-0"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first)) as? [String: Any])
        #expect(object["log"] as? String == "caf\u{FFFD} ok \u{FFFD}")
        #expect((object["kubernetes"] as? [String: Any])?["namespace_name"] as? String == "shop", "structure kept")
        let second = try #require(es.document(index: "logs-2026.11.18", id: "logs-1-1"))
        let message = try #require(try JSONSerialization.jsonObject(with: Data(second)) as? [String: Any])
        #expect(message["message"] as? String == "plain \u{FFFD}\u{FFFD} text")
        #expect(statistics.utf8Repaired.value == 2, "two records repaired, the valid one not counted")
        await sink.close()
        await es.shutdown()
    }

    @Test func anIndexNameFromInvalidUTF8IsStillAValidActionLine() async throws {
        let es = try await FakeElasticsearch()
        var http = HTTPSinkSettings(endpoints: [es.url], requestTimeout: .seconds(60))
        http.ejectionTime = .seconds(30)
        let sink = try ElasticsearchSink(
            name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs-{ns}")), logger: Logger(label: "t"))
        // Bytes that are not UTF-8 and names beyond 255 bytes: the action line must still be JSON
        // (found by the encoders fuzz target) and the name one Elasticsearch accepts.
        let record: [UInt8] = Array(#"{"ns":"Bad"#.utf8) + [0xFF] + Array(#"Näme"}"#.utf8)
        let long = #"{"ns":"\#(String(repeating: "é", count: 200))"}"#
        let delivery = try await sink.deliver(TestBatches.batch(bytes: [record, Array(long.utf8)]))
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.indexNames.contains("logs-bad\u{FFFD}näme"), "the record is repaired first; its field keeps the replacement")
        let cut = try #require(es.indexNames.first { $0.hasPrefix("logs-é") })
        #expect(cut.utf8.count == 255, "cut to Elasticsearch's 255 bytes on a character boundary")
        await sink.close()
        await es.shutdown()
    }

    @Test func splunkHECGetsOneValidEventPerRecord() async throws {
        let hec = try await FakeSplunkHEC(options: { var o = FakeSplunkHEC.Options(); o.acknowledgements = false; return o }())
        var http = HTTPSinkSettings(endpoints: [hec.url], requestTimeout: .seconds(60))
        http.ejectionTime = .seconds(30)
        var configuration = SplunkHECSinkConfiguration(http: http, sourcetype: try FieldTemplate("_json"), acknowledgements: false)
        configuration.setToken("hec-token")
        let statistics = SinkStatistics(name: "hec")
        let sink = try SplunkHECSink(name: "hec", configuration: configuration, notebook: nil, statistics: statistics, logger: Logger(label: "t"))
        try await sink.open(restoring: SinkCheckpoint(nextSequence: 0))
        let delivery = try await sink.deliver(TestBatches.batch(bytes: [Array(Self.smuggler.utf8), Self.badUTF8]))
        #expect(delivery.deadLetters.isEmpty)
        let events = hec.events
        #expect(events.count == 2)
        #expect(events.allSatisfy { !$0.object.contains(0x0A) && !$0.object.contains(0x0D) })
        let repaired = try #require(try JSONSerialization.jsonObject(with: Data(events[1].object)) as? [String: Any])
        #expect((repaired["event"] as? [String: Any])?["log"] as? String == "caf\u{FFFD} ok \u{FFFD}")
        #expect(statistics.utf8Repaired.value == 1)
        await sink.close()
        await hec.shutdown()
    }

    @Test func lokiLinesAreValidUTF8() async throws {
        let loki = try await FakeLoki()
        var http = HTTPSinkSettings(endpoints: [loki.url], requestTimeout: .seconds(60))
        http.ejectionTime = .seconds(30)
        let statistics = SinkStatistics(name: "loki")
        let sink = try LokiSink(
            name: "loki", configuration: LokiSinkConfiguration(http: http, labels: [.init(name: "job", template: try FieldTemplate("lb"))], tenantID: "team-a"),
            statistics: statistics, logger: Logger(label: "t"))
        var batch = TestBatches.batch(bytes: [Self.badUTF8, Array(#"{"log":"fine"}"#.utf8)])
        let now = Int64(Date().timeIntervalSince1970 * 1000)  // Loki refuses entries older than a week
        for i in batch.records.indices { batch.records[i].timestampMs = now }
        let delivery = try await sink.deliver(batch)
        #expect(delivery.deadLetters.isEmpty)
        #expect(loki.entries.count == 2)
        #expect(loki.entries.contains { $0.line.contains("caf\u{FFFD} ok \u{FFFD}") })
        #expect(statistics.utf8Repaired.value == 1)
        await sink.close()
        await loki.shutdown()
    }

    @Test func everyFileLineIsOneRecordInBothEncodings() throws {
        let values: [[UInt8]] = [
            Array(Self.smuggler.utf8), Array("stack trace\n  at a()\r\n  at b()".utf8), Self.badUTF8, Array("plain".utf8),
        ]
        let batch = TestBatches.batch(bytes: values)
        var repaired = 0
        let envelope = RecordEncoding.envelope.encode(batch, repairedRecords: &repaired)
        let envelopeLines = envelope.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        #expect(envelopeLines.count == 4)
        #expect(!envelope.contains(0x0D))
        for line in envelopeLines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line))) != nil, "each envelope line is valid JSON: \(String(decoding: line, as: UTF8.self))")
        }
        #expect(repaired == 1)

        let raw = RecordEncoding.raw.encode(batch)
        let rawLines = raw.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        #expect(rawLines.count == 4)
        #expect(!raw.contains(0x0D))
        #expect(String(decoding: rawLines[1], as: UTF8.self) == #""stack trace\n  at a()\r\n  at b()""#, "a multi-line text as a JSON string")
        #expect(Array(rawLines[2]) == Self.badUTF8, "raw keeps bytes that hold no line break as they are")
        #expect(String(decoding: rawLines[3], as: UTF8.self) == "plain")
    }
}
