import LogBridgeCore

/// Record batches as the spool hands them to a pipeline or a sink, built from plain lines.
public enum RecordBatches {
    /// One record per line, partition 0 of topic `logs`, offsets equal to sequence numbers.
    public static func lines(_ lines: [String], firstSequence: UInt64 = 0, timestampMs: Int64 = 1_795_000_000_000) -> RecordBatch {
        values(lines.map { Array($0.utf8) }, firstSequence: firstSequence, timestampMs: timestampMs)
    }

    /// One record per value, as ``lines(_:firstSequence:timestampMs:)``, from raw bytes (which
    /// need not be UTF-8).
    public static func values(_ values: [[UInt8]], firstSequence: UInt64 = 0, timestampMs: Int64 = 1_795_000_000_000) -> RecordBatch {
        var bytes: [UInt8] = []
        var records: [RecordBatch.Record] = []
        for (i, value) in values.enumerated() {
            let start = bytes.count
            bytes += value
            let sequence = firstSequence + UInt64(i)
            records.append(RecordBatch.Record(
                sequence: sequence, topicIndex: 0, partition: 0, offset: Int64(sequence), timestampMs: timestampMs, key: nil,
                value: start..<bytes.count))
        }
        return RecordBatch(topics: ["logs"], bytes: bytes, records: records)
    }
}
