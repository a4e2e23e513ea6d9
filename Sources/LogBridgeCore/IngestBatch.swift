/// One record as fetched from the source, borrowed from the source's own buffers.
///
/// The bytes stay owned by the ``IngestBatch`` that holds the record; they are copied exactly once,
/// into the spool's write transaction.
public struct IngestRecord {
    /// Index into ``IngestBatch/topics``.
    public var topicIndex: Int
    public var partition: Int32
    public var offset: Int64
    /// Milliseconds since the Unix epoch, or -1 when the source gave none.
    public var timestampMs: Int64
    public var key: UnsafeRawBufferPointer?
    /// `nil` for a tombstone (null value).
    public var value: UnsafeRawBufferPointer?
    /// The message's headers as a ``KafkaHeaders`` block; nil when it had none.
    public var headers: UnsafeRawBufferPointer?

    public init(
        topicIndex: Int, partition: Int32, offset: Int64, timestampMs: Int64,
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headers: UnsafeRawBufferPointer? = nil
    ) {
        self.headers = headers
        self.topicIndex = topicIndex
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.key = key
        self.value = value
    }

    public var valueCount: Int { value?.count ?? 0 }
}

/// A batch of fetched records handed from the source thread to the spool writer thread.
///
/// The source keeps its message buffers alive until the batch is released, so payloads are not
/// copied on the way to the spool. `release` runs exactly once, when the batch is deinitialised.
///
/// `@unchecked Sendable`: the batch is built on the source thread, then handed over (never shared)
/// to the writer thread through the spool's locked inbox; the borrowed buffers are immutable.
public final class IngestBatch: @unchecked Sendable {
    public let topics: [String]
    public private(set) var records: [IngestRecord]
    /// Sum of value sizes, for bounding queues by bytes.
    public private(set) var byteCount: Int
    private let release: () -> Void

    public init(topics: [String], records: [IngestRecord], release: @escaping () -> Void) {
        self.topics = topics
        self.records = records
        self.byteCount = records.reduce(0) { $0 + $1.valueCount }
        self.release = release
    }

    /// Drops the records of the given partitions (used when they are revoked before being spooled).
    /// The underlying buffers are released with the batch.
    public func removeRecords(of partitions: Set<TopicPartition>) {
        guard !partitions.isEmpty else { return }
        records.removeAll { partitions.contains(TopicPartition(topic: topics[$0.topicIndex], partition: $0.partition)) }
        byteCount = records.reduce(0) { $0 + $1.valueCount }
    }

    /// Drops the first `count` records (written by a transaction that had room for no more).
    public func removeFirst(_ count: Int) {
        records.removeFirst(min(count, records.count))
        byteCount = records.reduce(0) { $0 + $1.valueCount }
    }

    public func topicPartition(of record: IngestRecord) -> TopicPartition {
        TopicPartition(topic: topics[record.topicIndex], partition: record.partition)
    }

    deinit { release() }
}
