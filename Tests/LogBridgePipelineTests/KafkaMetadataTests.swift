import LogBridgeCore
import Testing

@testable import LogBridgePipeline

/// `%kafka.…` paths: the record's topic, partition, offset, key, timestamp and headers, read in
/// conditions, routes, `set` templates and metrics labels; never a record field.
struct KafkaMetadataTests {
    /// Two records of two topics, the second with a key and headers.
    static func batch() -> RecordBatch {
        var bytes: [UInt8] = []
        var records: [RecordBatch.Record] = []
        func add(_ value: String, topic: Int, key: String?, headers: [(String, String?)]) {
            let base = bytes.count
            var keyRange: Range<Int>?
            if let key {
                bytes += Array(key.utf8)
                keyRange = base..<bytes.count
            }
            var headerRange: Range<Int>?
            if !headers.isEmpty {
                var block: [UInt8] = []
                for (name, value) in headers {
                    var nameBytes = Array(name.utf8)
                    var valueBytes = value.map { Array($0.utf8) }
                    nameBytes.withUnsafeMutableBytes { n in
                        if valueBytes != nil {
                            valueBytes!.withUnsafeMutableBytes { KafkaHeaders.append(name: UnsafeRawBufferPointer(n), value: UnsafeRawBufferPointer($0), to: &block) }
                        } else {
                            KafkaHeaders.append(name: UnsafeRawBufferPointer(n), value: nil, to: &block)
                        }
                    }
                }
                let start = bytes.count
                bytes += block
                headerRange = start..<bytes.count
            }
            let start = bytes.count
            bytes += Array(value.utf8)
            records.append(RecordBatch.Record(
                sequence: UInt64(records.count), topicIndex: topic, partition: Int32(3 + records.count), offset: 40 + Int64(records.count),
                timestampMs: 1_763_632_800_000, key: keyRange, value: start..<bytes.count, headers: headerRange))
        }
        add(#"{"log":"a","%kafka.topic":"a record field"}"#, topic: 0, key: nil, headers: [])
        add(#"{"log":"b"}"#, topic: 1, key: "tenant-7", headers: [("trace", "abc"), ("empty", nil), ("trace", "second")])
        return RecordBatch(topics: ["aks-prod", "aks-dev"], bytes: bytes, records: records)
    }

    @Test func setTemplatesReadEveryName() throws {
        let template = "{%kafka.topic}/{%kafka.partition}/{%kafka.offset}/{%kafka.key}/{%kafka.timestamp}/{%kafka.headers.trace}/{%kafka.headers.empty}"
        let pipeline = try PipelineTestSupport.pipeline([
            .set(field: PipelineTestSupport.path("meta"), value: .template(template), onlyIfMissing: false)
        ])
        let out = PipelineTestSupport.texts(pipeline.process(Self.batch(), flush: true).batch)
        #expect(out == [
            #"{"log":"a","%kafka.topic":"a record field","meta":"aks-prod/3/40//1763632800000//"}"#,
            #"{"log":"b","meta":"aks-dev/4/41/tenant-7/1763632800000/abc/"}"#,
        ])
    }

    @Test func conditionsAndRoutesReadMetadataNotTheFieldOfThatName() throws {
        let byTopic = ConditionConfiguration.equals(PipelineTestSupport.path("%kafka.topic"), "aks-dev")
        let pipeline = try PipelineTestSupport.pipeline([.filter(byTopic)])
        let out = PipelineTestSupport.texts(pipeline.process(Self.batch(), flush: true).batch)
        #expect(out == [#"{"log":"b"}"#])
        // The quoted name is the record's field.
        let field = ConditionConfiguration.equals(PipelineTestSupport.path(#""%kafka.topic""#), "a record field")
        #expect(PipelineTestSupport.texts(try PipelineTestSupport.pipeline([.filter(field)]).process(Self.batch(), flush: true).batch).count == 1)
        // exists: a record without a key has no %kafka.key.
        let keyed = ConditionConfiguration.exists(PipelineTestSupport.path("%kafka.key"), true)
        #expect(PipelineTestSupport.texts(try PipelineTestSupport.pipeline([.filter(keyed)]).process(Self.batch(), flush: true).batch) == [#"{"log":"b"}"#])
        let header = ConditionConfiguration.equals(PipelineTestSupport.path("%kafka.headers.trace"), "abc")
        #expect(PipelineTestSupport.texts(try PipelineTestSupport.pipeline([.filter(header)]).process(Self.batch(), flush: true).batch) == [#"{"log":"b"}"#])
        // Routes: one sink per topic.
        let route = ProcessorConfiguration.route(rules: [RouteRule(when: byTopic, sinks: ["dev"])], fallback: ["prod"])
        let dev = try PipelineTestSupport.pipeline([route], sink: "dev", sinks: ["prod", "dev"])
        let prod = try PipelineTestSupport.pipeline([route], sink: "prod", sinks: ["prod", "dev"])
        #expect(PipelineTestSupport.texts(dev.process(Self.batch(), flush: true).batch) == [#"{"log":"b"}"#])
        #expect(PipelineTestSupport.texts(prod.process(Self.batch(), flush: true).batch).count == 1)
    }

    @Test func keyAndHeadersSurviveThePipelineForTheSinks() throws {
        let pipeline = try PipelineTestSupport.pipeline([
            .set(field: PipelineTestSupport.path("env"), value: .string("prod"), onlyIfMissing: false)
        ])
        let out = pipeline.process(Self.batch(), flush: true).batch
        let record = out.records[1]
        let metadata = out.bytes.withUnsafeBytes { bytes -> String in
            var text: [UInt8] = []
            let view = KafkaRecordMetadata(record, of: out, bytes: bytes)
            view.append(.key, to: &text)
            text.append(UInt8(ascii: " "))
            view.append(.header(Array("trace".utf8)), to: &text)
            return String(decoding: text, as: UTF8.self)
        }
        #expect(metadata == "tenant-7 abc")
    }

    @Test func unknownNamesAreRefused() {
        #expect(throws: PipelineError.self) { try FieldPath("%kafka.topics") }
        #expect(throws: PipelineError.self) { try FieldPath("%kafka.headers.") }
        #expect(throws: PipelineError.self) { try SetValue.check(template: "x-{%kafka.partiton}") }
        #expect((try? FieldPath(#""%kafka.topics""#))?.isMetadata == false)
    }
}
