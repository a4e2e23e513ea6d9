import Glibc
import LogBridgeCore

/// A record's stable identity, `topic-partition-offset`: the same across retries, restarts and
/// replays, so destinations can de-duplicate (Elasticsearch `_id`, Splunk `event_id`).
public enum RecordIdentity {
    /// Appends the identity as a JSON string (quotes included).
    public static func appendQuoted(_ record: RecordBatch.Record, topic: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
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
        out.append(UInt8(ascii: "-"))
        JSONBytes.appendInteger(Int64(record.partition), to: &out)
        out.append(UInt8(ascii: "-"))
        JSONBytes.appendInteger(record.offset, to: &out)
        out.append(UInt8(ascii: "\""))
    }
}
