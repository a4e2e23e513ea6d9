import LogBridgeCore

/// A record's stable identity, `topic-partition-offset`: the same across retries, restarts and
/// replays, so destinations can de-duplicate (Elasticsearch `_id`, Splunk `event_id`).
public enum RecordIdentity {
    /// Appends the identity as a JSON string (quotes included).
    public static func appendQuoted(_ record: RecordBatch.Record, topic: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in topic.utf8 where byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { out.append(byte) }
        out.append(UInt8(ascii: "-"))
        JSONBytes.appendInteger(Int64(record.partition), to: &out)
        out.append(UInt8(ascii: "-"))
        JSONBytes.appendInteger(record.offset, to: &out)
        out.append(UInt8(ascii: "\""))
    }
}
