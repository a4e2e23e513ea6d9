import LogBridgeCore

/// Builds ``IngestBatch``es from plain values, owning copies of the bytes (the Kafka source lends
/// librdkafka's buffers instead).
public enum TestIngest {
    public struct Item: Sendable {
        public var partition: Int32
        public var offset: Int64
        public var value: [UInt8]?
        public var key: [UInt8]?
        public var timestampMs: Int64

        public init(partition: Int32, offset: Int64, value: [UInt8]?, key: [UInt8]? = nil, timestampMs: Int64 = 1_795_000_000_000) {
            self.partition = partition
            self.offset = offset
            self.value = value
            self.key = key
            self.timestampMs = timestampMs
        }
    }

    public static func batch(topic: String = "logs", _ items: [Item]) -> IngestBatch {
        var allocations: [UnsafeMutableRawBufferPointer] = []
        func copy(_ bytes: [UInt8]?) -> UnsafeRawBufferPointer? {
            guard let bytes else { return nil }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
            allocations.append(buffer)
            return UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
        }
        let records = items.map { item in
            IngestRecord(
                topicIndex: 0, partition: item.partition, offset: item.offset, timestampMs: item.timestampMs,
                key: copy(item.key), value: copy(item.value))
        }
        let owned = allocations
        return IngestBatch(topics: [topic], records: records, release: { owned.forEach { $0.deallocate() } })
    }

    /// `count` bytes that do not compress (xorshift from `seed`), for tests that must fill the
    /// spool's pages: the spool compresses what repeats (`spool.compression`).
    public static func incompressible(count: Int, seed: UInt64) -> [UInt8] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    /// `count` records of one partition starting at `offset`, valued `record-<partition>-<offset>`.
    public static func sequential(partition: Int32, from offset: Int64, count: Int, topic: String = "logs") -> IngestBatch {
        batch(topic: topic, (0..<count).map { i in
            let o = offset + Int64(i)
            return Item(partition: partition, offset: o, value: Array("record-\(partition)-\(o)".utf8))
        })
    }
}
