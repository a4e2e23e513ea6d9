import Foundation
import LogBridgeCore
import LogBridgeTestSupport
import Logging
import Testing

@testable import LogBridgeSinks

/// Elasticsearch, Splunk HEC and Loki find each record's event time in their pass over it when
/// the batch's times are pending (`RecordBatch.pendingEventTime`). Their bodies must be the ones
/// they build from a batch stamped on the reader thread (`EventTimeResolver.stamp`), whatever the
/// records hold, and a dead letter must carry the same time.
@Suite struct EncoderEventTimeTests {
    static let values: [String] = [
        #"{"@timestamp":1763632800.123456,"log":"x","kubernetes":{"namespace_name":"shop","host":"n1"}}"#,
        #"{"date":1763632800.5,"time":"2025-11-20T10:00:05.25Z","stream":"stdout","log":"y"}"#,
        #"{"time":"2025-11-20T10:00:05Z","@timestamp":1763632800.0}"#,
        #"{"@timestamp":"soon","time":"2025-11-20T12:00:00.25+02:00"}"#,
        #"{"@timestamp":{"nested":1},"ts":1763632800123}"#,
        #"{"x":{"@timestamp":1763632900},"time":"2025-11-20T10:00:00Z"}"#,
        #"{"log":"a \"@timestamp\" in text","ts":"1763632800"}"#,
        #"{"time":"2025-11-20T10:00:01Z","time":"2025-11-20T10:00:02Z"}"#,
        #"{"ts":42,"timestamp":"2025-11-20T10:00:00\u005A"}"#,
        #"{"log":"no time here"}"#,
        #"{}"#,
        // Not valid objects: read leniently (a leading field still counts), or the Kafka time.
        #"{"@timestamp":1763632800.5,"log":"#,
        #"{"log":"x","@timestamp":"#,
        "  {\"@timestamp\":1763632800.75}\n",
        #"[{"@timestamp":1763632800}]"#,
        #""2025-11-20T10:00:00Z""#,
        "plain text 2025-11-20T10:00:00Z",
        "",
        // Invalid UTF-8 inside a record: repaired by the reader, time found before or after it.
        "{\"@timestamp\":1763632801.5,\"log\":\"caf\u{FFFD}\"}",
    ]

    /// The values above, plus the invalid-UTF-8 variants only bytes can express.
    static func batch(timestampMs: Int64 = 1_000) -> RecordBatch {
        var lines = values.map { Array($0.utf8) }
        lines.append(Array(#"{"time":"2025-11-20T10:00:09Z","log":""#.utf8) + [0xFF, 0xC3] + Array(#""}"#.utf8))
        lines.append(Array(#"{"log":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"","@timestamp":1763632802}"#.utf8))
        lines.append(Array(#"{"@timestamp":"2025-11-20T10:00:00"#.utf8) + [0xFF] + Array(#"Z","ts":1763632803000}"#.utf8))
        return RecordBatches.values(lines, timestampMs: timestampMs)
    }

    /// The batch stamped as the reader thread does, and the same batch with its times pending.
    static func stampedAndPending(_ fields: EventTimeFields) -> (stamped: RecordBatch, pending: RecordBatch) {
        var stamped = batch()
        var resolver = fields.makeResolver()
        resolver.stamp(&stamped)
        var pending = batch()
        pending.pendingEventTime = fields
        return (stamped, pending)
    }

    static let fieldOrders: [EventTimeFields] = [.default, EventTimeFields(["time", "@timestamp"]), EventTimeFields(["ts"])]

    @Test func elasticsearchBodiesAreTheStampedOnes() throws {
        let builder = ElasticsearchRequestBuilder(index: try FieldTemplate("logs-{kubernetes.namespace_name}-%Y.%m.%d.%H"))
        Self.expectStampedBodies { builder.body(for: $0, of: $1) }
    }

    @Test func splunkBodiesAreTheStampedOnes() throws {
        let configuration = SplunkHECSinkConfiguration(
            http: HTTPSinkSettings(endpoints: ["http://127.0.0.1:1"]), host: try FieldTemplate("{kubernetes.host}"),
            sourcetype: try FieldTemplate("_json"), index: try FieldTemplate("logs-%Y%m%d"),
            fields: [.init(name: "hour", template: try FieldTemplate("%H"))])
        let encoder = HECEventEncoder(configuration: configuration)
        Self.expectStampedBodies { encoder.body(for: $0, of: $1) }
    }

    @Test func lokiBodiesAreTheStampedOnes() throws {
        // With a field label (its scan notes the time too) and with constant labels only (the
        // scan is then for the time alone), plus structured metadata and a templated date.
        let labelSets: [[LokiSinkConfiguration.Label]] = [
            [.init(name: "job", template: try FieldTemplate("logbridge")),
             .init(name: "namespace", template: try FieldTemplate("{kubernetes.namespace_name}")),
             .init(name: "day", template: try FieldTemplate("%Y-%m-%d"))],
            [.init(name: "job", template: try FieldTemplate("logbridge"))],
        ]
        for labels in labelSets {
            let configuration = LokiSinkConfiguration(
                http: HTTPSinkSettings(endpoints: ["http://127.0.0.1:1"]), labels: labels,
                structuredMetadata: [.init(name: "hour", template: try FieldTemplate("%H"))])
            let builder = LokiRequestBuilder(configuration: configuration, streams: StreamLimit(limit: 1000) {})
            Self.expectStampedBodies { builder.body(for: $0, of: $1) }
        }
    }

    /// The file and console sinks' envelope (`timestamp`), and the raw lines, which carry no time.
    @Test func envelopeLinesAreTheStampedOnes() {
        for encoding in RecordEncoding.allCases {
            for fields in Self.fieldOrders {
                let (stamped, pending) = Self.stampedAndPending(fields)
                var expectedRepairs = 0
                var repairs = 0
                let expected = encoding.encode(stamped, repairedRecords: &expectedRepairs)
                let got = encoding.encode(pending, repairedRecords: &repairs)
                #expect(String(decoding: got, as: UTF8.self) == String(decoding: expected, as: UTF8.self), "\(encoding) \(fields.names)")
                #expect(repairs == expectedRepairs && (encoding == .raw || repairs > 0))
            }
            // One record at a time (the entry point for single records) gives the same lines.
            let (stamped, pending) = Self.stampedAndPending(.default)
            for index in stamped.records.indices {
                var expected: [UInt8] = []
                var got: [UInt8] = []
                encoding.append(stamped.records[index], of: stamped, to: &expected)
                encoding.append(pending.records[index], of: pending, to: &got)
                #expect(got == expected, "\(encoding) record \(index)")
            }
        }
        #expect(FileSink(name: "f", configuration: FileSinkConfiguration(path: "/dev/null"), logger: Logger(label: "t")).resolvesEventTime)
        #expect(ConsoleSink(name: "c").resolvesEventTime)
    }

    /// For every field order: the body of the pending batch is the stamped batch's, byte for byte.
    static func expectStampedBodies(_ body: ([Int], RecordBatch) -> EncodedBody) {
        for fields in fieldOrders {
            let (stamped, pending) = stampedAndPending(fields)
            let all = Array(stamped.records.indices)
            let expected = body(all, stamped)
            let got = body(all, pending)
            #expect(String(decoding: got.bytes, as: UTF8.self) == String(decoding: expected.bytes, as: UTF8.self), "\(fields.names)")
            #expect(got.repaired == expected.repaired)
            // The times did differ from the Kafka timestamp, so the check above could fail.
            #expect(stamped.records.contains { $0.timestampMs != 1_000 })
        }
    }

    @Test func deadLettersCarryTheEventTime() {
        let (stamped, pending) = Self.stampedAndPending(.default)
        for index in stamped.records.indices {
            let rejection = HTTPChunkVerdict.Rejection(index: index, status: 400, reason: "mapper_parsing_exception: x")
            #expect(rejection.deadLetter(in: pending, sink: "es").timestampMs == stamped.records[index].timestampMs, "record \(index)")
            #expect(pending.eventTimeMs(ofRecordAt: index) == stamped.records[index].timestampMs)
        }
        // A batch whose times are final keeps them as they are.
        #expect(stamped.eventTimeMs(ofRecordAt: 0) == stamped.records[0].timestampMs)
    }
}
