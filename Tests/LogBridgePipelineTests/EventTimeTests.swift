@testable import LogBridgeCore
import LogBridgePipeline
import Testing

/// `source.event_time_fields`: which field gives a record its event time, and how each producer's
/// format reads.
struct EventTimeTests {
    func resolve(_ json: String, _ fields: EventTimeFields = .default) -> Int64? {
        var resolver = fields.makeResolver()
        var bytes = Array(json.utf8)
        return bytes.withUnsafeMutableBytes { resolver.resolve(UnsafeRawBufferPointer($0)) }
    }

    // 2025-11-20T10:00:00Z
    let t: Int64 = 1_763_632_800

    @Test func fluentBitFormats() {
        #expect(resolve(#"{"@timestamp":1763632800.123456,"log":"x"}"#) == t * 1_000_000_000 + 123_456_000)
        #expect(resolve(#"{"@timestamp":"2025-11-20T10:00:00.123456Z","log":"x"}"#) == t * 1_000_000_000 + 123_456_000)
        #expect(resolve(#"{"@timestamp":"2025-11-20T10:00:00.123456789Z"}"#) == t * 1_000_000_000 + 123_456_789)
    }

    @Test func otherProducers() {
        #expect(resolve(#"{"stream":"stdout","time":"2025-11-20T10:00:00.5Z"}"#) == t * 1_000_000_000 + 500_000_000)
        #expect(resolve(#"{"timestamp":"2025-11-20T12:00:00.25+02:00"}"#) == t * 1_000_000_000 + 250_000_000)
        #expect(resolve(#"{"ts":1763632800123}"#) == t * 1_000_000_000 + 123_000_000)
        #expect(resolve(#"{"ts":1763632800123456}"#) == t * 1_000_000_000 + 123_456_000)
        #expect(resolve(#"{"ts":1763632800123456789}"#) == t * 1_000_000_000 + 123_456_789)
        #expect(resolve(#"{"ts":"1763632800"}"#) == t * 1_000_000_000)
        #expect(resolve(#"{"ts":1763632800}"#) == t * 1_000_000_000)
    }

    @Test func theOrderDecidesAndUnreadableFieldsAreSkipped() {
        let both = #"{"time":"2025-11-20T10:00:05Z","@timestamp":1763632800.0}"#
        #expect(resolve(both) == t * 1_000_000_000)
        #expect(resolve(both, EventTimeFields(["time", "@timestamp"])) == (t + 5) * 1_000_000_000)
        // Not a time: the next field.
        #expect(resolve(#"{"@timestamp":"soon","time":"2025-11-20T10:00:00Z"}"#) == t * 1_000_000_000)
        #expect(resolve(#"{"@timestamp":{"nested":1},"time":"2025-11-20T10:00:00Z"}"#) == t * 1_000_000_000)
        // A counter called ts is not a time (outside 1990-2200), nor an exponent, nor escapes.
        #expect(resolve(#"{"ts":42}"#) == nil)
        #expect(resolve(#"{"ts":1.7e9}"#) == nil)
        #expect(resolve(#"{"time":"2025-11-20T10:00:00\u005A"}"#) == nil)
        #expect(resolve(#"{"time":"\u0032025-11-20T10:00:00Z"}"#) == nil)
        #expect(resolve(#"{"time":"2025-11-20T10:00:00.\u0031Z"}"#) == nil)
        #expect(resolve(#"{"time":"2025-11-20T10:00:00+01\u003a00"}"#) == nil)
        #expect(resolve(#"{"ts":"176363280\u0030"}"#) == nil)
        // Not an object, an empty list, a field not configured.
        #expect(resolve(#"plain text 2025-11-20T10:00:00Z"#) == nil)
        #expect(resolve(#"{"@timestamp":1763632800}"#, EventTimeFields([])) == nil)
        #expect(resolve(#"{"date":1763632800}"#) == nil)
        #expect(resolve(#"{"date":1763632800}"#, EventTimeFields(["date"])) == t * 1_000_000_000)
    }

    /// Fields named nowhere in the record are skipped before the scan; one named only inside a
    /// nested object or a string does not count as a member.
    @Test func absentAndNestedNamesDoNotShadowTheNextField() {
        #expect(resolve(#"{"date":1,"time":"2025-11-20T10:00:00Z","log":"x"}"#) == t * 1_000_000_000)
        #expect(resolve(#"{"x":{"@timestamp":1763632900},"time":"2025-11-20T10:00:00Z"}"#) == t * 1_000_000_000)
        #expect(resolve(#"{"log":"a \"@timestamp\" in text","time":"2025-11-20T10:00:00Z"}"#) == t * 1_000_000_000)
        #expect(resolve(#"{"log":"@timestamp","ts":1763632800}"#) == t * 1_000_000_000)
        #expect(resolve(#"{"log":"no time here"}"#) == nil)
        var bytes = Array(#"{"a":"@timestamp","b":{"time":1}}"#.utf8)
        bytes.withUnsafeMutableBytes { raw in
            let value = UnsafeRawBufferPointer(raw)
            #expect(JSONBytes.containsQuoted(Array("@timestamp".utf8), in: value))
            #expect(JSONBytes.containsQuoted(Array("time".utf8), in: value))
            #expect(!JSONBytes.containsQuoted(Array("timestamp".utf8), in: value))
            #expect(!JSONBytes.containsQuoted(Array("b\"".utf8), in: value))
            #expect(!JSONBytes.containsQuoted(Array("a".utf8), in: UnsafeRawBufferPointer(rebasing: value[0..<3])))
        }
    }

    @Test func malformedRecordsFallBack() {
        #expect(resolve(#"{"log":"x","@timestamp":"#) == nil)
        #expect(resolve(#"{"#) == nil)
        #expect(resolve("") == nil)
        // The preferred field read before the record breaks off still counts.
        #expect(resolve(#"{"@timestamp":1763632800.5,"log":"#) == t * 1_000_000_000 + 500_000_000)
    }

    @Test func aBatchIsStampedAndKeepsItsKafkaTimestamp() {
        let values = [#"{"@timestamp":1763632800.123}"#, "text"]
        var bytes: [UInt8] = []
        var records: [RecordBatch.Record] = []
        for (i, value) in values.enumerated() {
            let start = bytes.count
            bytes += Array(value.utf8)
            records.append(RecordBatch.Record(
                sequence: UInt64(i), topicIndex: 0, partition: 0, offset: Int64(i), timestampMs: 1_000, key: nil, value: start..<bytes.count))
        }
        var batch = RecordBatch(topics: ["logs"], bytes: bytes, records: records)
        var resolver = EventTimeFields.default.makeResolver()
        resolver.stamp(&batch)
        #expect(batch.records[0].timestampMs == t * 1000 + 123)
        #expect(batch.records[0].kafkaTimestampMs == 1_000)
        #expect(batch.records[1].timestampMs == 1_000)
    }

    /// A sink that finds event times itself (`Sink.resolvesEventTime`) gets the batch with its
    /// times pending when nothing else runs; with processors, the pipeline sets them as before.
    @Test func aSinkThatResolvesEventTimeGetsThemPending() throws {
        let lines = [#"{"@timestamp":1763632800.123}"#, "text"]
        func run(_ processors: [ProcessorConfiguration], resolves: Bool, fields: EventTimeFields = .default) throws -> RecordBatch {
            let pipeline = try SinkPipeline(
                shared: PipelineConfiguration(processors), own: PipelineConfiguration([]), sinkName: "out", sinkIndex: 0,
                sinkNames: ["out"], metrics: PipelineMetrics(), countsShared: true, eventTime: fields, sinkResolvesEventTime: resolves)
            return pipeline.process(PipelineTestSupport.batch(lines, timestampMs: 1_000), flush: true).batch
        }
        let pending = try run([], resolves: true)
        #expect(pending.pendingEventTime == .default)
        #expect(pending.records.map(\.timestampMs) == [1_000, 1_000])
        #expect(pending.eventTimeMs(ofRecordAt: 0) == t * 1000 + 123)
        #expect(pending.eventTimeMs(ofRecordAt: 1) == 1_000)

        let stamped = try run([], resolves: false)
        #expect(stamped.pendingEventTime == nil)
        #expect(stamped.records.map(\.timestampMs) == [t * 1000 + 123, 1_000])

        let processed = try run([.drop(.equals(PipelineTestSupport.path("absent"), "x"))], resolves: true)
        #expect(processed.pendingEventTime == nil)
        #expect(processed.records.map(\.timestampMs) == [t * 1000 + 123, 1_000])

        // No event time fields configured: the Kafka timestamp is final, nothing is pending.
        let none = try run([], resolves: true, fields: EventTimeFields([]))
        #expect(none.pendingEventTime == nil)
        #expect(none.records.map(\.timestampMs) == [1_000, 1_000])
    }
}
