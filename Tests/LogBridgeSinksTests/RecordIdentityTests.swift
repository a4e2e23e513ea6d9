import Foundation
import LogBridgeCore
import Testing

@testable import LogBridgeSinks

/// `topic-partition-offset`, the `_id` and `event_id` every retry and replay repeats.
@Suite struct RecordIdentityTests {
    static func identity(topic: String, partition: Int32, offset: Int64) -> String {
        let record = RecordBatch.Record(sequence: 0, topicIndex: 0, partition: partition, offset: offset, timestampMs: -1, key: nil, value: 0..<0)
        var out: [UInt8] = Array("x".utf8)
        RecordIdentity.appendQuoted(record, prefixes: RecordIdentity.Prefixes([topic]), to: &out)
        // The same bytes whichever of a batch's topics the record has.
        let topics = ["other", topic, #"x"y"#]
        var inBatch: [UInt8] = Array("x".utf8)
        var second = record
        second.topicIndex = 1
        RecordIdentity.appendQuoted(second, prefixes: RecordIdentity.Prefixes(topics), to: &inBatch)
        #expect(inBatch == out, "\(topic)")
        return String(decoding: out, as: UTF8.self)
    }

    @Test func namesTheTopicPartitionAndOffset() {
        #expect(Self.identity(topic: "logs", partition: 3, offset: 0) == #"x"logs-3-0""#)
        #expect(Self.identity(topic: "kube.prod_eu-1", partition: 95, offset: 9_223_372_036_854_775_807)
            == #"x"kube.prod_eu-1-95-9223372036854775807""#)
        #expect(Self.identity(topic: "", partition: 0, offset: 12) == #"x"-0-12""#)
    }

    /// The position is written into a buffer of its own (right to left): the same digits as
    /// `JSONBytes.appendInteger` for every width and sign, the extremes included.
    @Test func positionsAreTheIntegersAsJSONWritesThem() {
        let offsets: [Int64] = [0, 7, 9, 10, 99, 100, 123_456_789, -1, -10, .max, .min]
        let partitions: [Int32] = [0, 5, 10, 95, .max, -1, .min]
        for offset in offsets {
            for partition in partitions {
                var expected: [UInt8] = Array(#""t-"#.utf8)
                JSONBytes.appendInteger(Int64(partition), to: &expected)
                expected.append(UInt8(ascii: "-"))
                JSONBytes.appendInteger(offset, to: &expected)
                expected.append(UInt8(ascii: "\""))
                #expect(Array(Self.identity(topic: "t", partition: partition, offset: offset).utf8.dropFirst()) == expected)
            }
        }
    }

    /// A name no Kafka broker should send still gives a valid JSON string: quotes and backslashes
    /// are left out, everything else is kept.
    @Test func quotesAndBackslashesInATopicNameAreLeftOut() throws {
        for topic in [#"a"b"#, #"a\b"#, #"\"#, #"""#, #"ünï"cödé\"#] {
            let text = Self.identity(topic: topic, partition: 1, offset: 2).dropFirst()
            let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) as? String
            let kept = String(topic.unicodeScalars.filter { $0 != "\"" && $0 != "\\" })
            #expect(decoded == "\(kept)-1-2", "\(topic)")
        }
    }
}
