import Glibc
import LogBridgeCore

/// A record's stable identity, `topic-partition-offset`: the same across retries, restarts and
/// replays, so destinations can de-duplicate (Elasticsearch `_id`, Splunk `event_id`).
public enum RecordIdentity {
    /// Appends the identity as a JSON string (quotes included), its topic taken from `prefixes`
    /// (made once per body from the batch's topics).
    public static func appendQuoted(_ record: RecordBatch.Record, prefixes: Prefixes, to out: inout [UInt8]) {
        prefixes.append(record.topicIndex, to: &out)
        appendPosition(record, to: &out)
    }

    /// A batch's topics as each identity starts (`"topic`), made once per body: checking the
    /// name for quotes (two `memchr` calls) and retaining its `String` for every record showed in
    /// the HEC profile.
    public struct Prefixes: Sendable {
        private var bytes: [UInt8] = []
        private var ends: [Int] = []

        public init(_ topics: [String]) {
            for topic in topics {
                bytes.append(UInt8(ascii: "\""))
                RecordIdentity.appendTopic(topic, to: &bytes)
                ends.append(bytes.count)
            }
        }

        func append(_ topicIndex: Int, to out: inout [UInt8]) {
            let start = topicIndex == 0 ? 0 : ends[topicIndex - 1]
            bytes.withUnsafeBytes { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[start..<ends[topicIndex]])) }
        }
    }

    /// The topic name, without the quotes and backslashes no Kafka broker should send.
    private static func appendTopic(_ topic: String, to out: inout [UInt8]) {
        // Topic names cannot hold a quote or a backslash (Kafka allows `[a-zA-Z0-9._-]`), but the
        // identity must stay a valid JSON string whatever a broker sends: the name is copied whole
        // when it holds neither, byte by byte without them otherwise.
        let clean = topic.utf8.withContiguousStorageIfAvailable { name in
            name.isEmpty || (memchr(name.baseAddress!, 0x22, name.count) == nil && memchr(name.baseAddress!, 0x5C, name.count) == nil)
        }
        if clean == true {
            out.append(contentsOf: topic.utf8)
        } else {
            for byte in topic.utf8 where byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { out.append(byte) }
        }
    }

    /// `-partition-offset"` after the topic.
    static func appendPosition(_ record: RecordBatch.Record, to out: inout [UInt8]) {
        JSONBytes.appendDecimals(Int64(record.partition), record.offset, prefix: "-", separator: "-", suffix: "\"", to: &out)
    }
}
