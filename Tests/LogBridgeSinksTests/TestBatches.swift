import LogBridgeCore

/// Batches as the spool hands them to sinks, for sink tests.
enum TestBatches {
    static func batch(_ values: [String], from offset: Int64 = 0, partition: Int32 = 1) -> RecordBatch {
        var batch = RecordBatch(topics: ["logs"])
        for (i, value) in values.enumerated() {
            let start = batch.bytes.count
            batch.bytes.append(contentsOf: value.utf8)
            batch.records.append(.init(
                sequence: UInt64(offset) + UInt64(i), topicIndex: 0, partition: partition, offset: offset + Int64(i),
                timestampMs: 1_795_000_000_000, key: nil, value: start..<batch.bytes.count))
        }
        batch.nextSequence = UInt64(offset) + UInt64(values.count)
        return batch
    }

    /// A batch of values given as bytes (records that are not valid UTF-8).
    static func batch(bytes values: [[UInt8]], from offset: Int64 = 0) -> RecordBatch {
        var batch = batch(values.map { _ in "" }, from: offset)
        batch.bytes = []
        for (i, value) in values.enumerated() {
            let start = batch.bytes.count
            batch.bytes.append(contentsOf: value)
            batch.records[i].value = start..<batch.bytes.count
        }
        return batch
    }

    static func records(_ count: Int, marker: (Int) -> String = { _ in "" }) -> [String] {
        (0..<count).map { #"{"log":"line \#($0) \#(marker($0))","kubernetes":{"namespace_name":"Shop"}}"# }
    }
}
