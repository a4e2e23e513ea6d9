/// A batch of spooled records read for one sink, stored contiguously: one allocation for the
/// payload bytes and one for the record table, whatever the number of records.
public struct RecordBatch: Sendable {
    /// Where a record came from and where its bytes are in ``RecordBatch/bytes``.
    public struct Record: Sendable, Equatable {
        /// The spool sequence number: the record's position in the spool's single ordered log.
        public var sequence: UInt64
        /// Index into ``RecordBatch/topics``.
        public var topicIndex: Int
        public var partition: Int32
        public var offset: Int64
        /// The event time in milliseconds since the Unix epoch, or -1 when unknown: the Kafka
        /// timestamp as read from the spool, then the time found in the record
        /// (`source.event_time_fields`) or set by the pipeline. Every sink uses this one.
        public var timestampMs: Int64
        /// The Kafka message timestamp (`%kafka.timestamp`), whatever the event time became.
        public var kafkaTimestampMs: Int64
        public var key: Range<Int>?
        public var value: Range<Int>
        /// The record's Kafka headers in ``RecordBatch/bytes``, encoded as ``KafkaHeaders`` reads
        /// them; nil when it had none.
        public var headers: Range<Int>?

        public init(
            sequence: UInt64, topicIndex: Int, partition: Int32, offset: Int64, timestampMs: Int64,
            key: Range<Int>?, value: Range<Int>, kafkaTimestampMs: Int64? = nil, headers: Range<Int>? = nil
        ) {
            self.sequence = sequence
            self.topicIndex = topicIndex
            self.partition = partition
            self.offset = offset
            self.timestampMs = timestampMs
            self.kafkaTimestampMs = kafkaTimestampMs ?? timestampMs
            self.key = key
            self.value = value
            self.headers = headers
        }
    }

    public var topics: [String]
    public var bytes: [UInt8]
    public var records: [Record]
    /// Where the sink's cursor moves once the batch is delivered: past the last record read,
    /// including records the reader set aside (corrupt ones go to the dead-letter store).
    public var nextSequence: UInt64
    /// Set when the records' event times are still to be found in these fields: `timestampMs` is
    /// then the Kafka timestamp, and the sink's encoder finds each record's event time in the pass
    /// that validates it (``eventTimeMs(ofRecordAt:)`` elsewhere). nil when `timestampMs` is final.
    /// Only sinks that ask for it (`Sink.resolvesEventTime`) get such batches: a scan of its own
    /// per record on the reader thread was ~5% of the forwarder's CPU (docs/cpu-profile.md).
    public var pendingEventTime: EventTimeFields?

    public init(topics: [String] = [], bytes: [UInt8] = [], records: [Record] = [], nextSequence: UInt64? = nil) {
        self.topics = topics
        self.bytes = bytes
        self.records = records
        self.nextSequence = nextSequence ?? records.last.map { $0.sequence + 1 } ?? 0
    }

    public var isEmpty: Bool { records.isEmpty }
    public var count: Int { records.count }

    /// A record's event time in milliseconds: `timestampMs`, or when the batch's event times are
    /// pending (``pendingEventTime``), the time found in the record's value, else its Kafka
    /// timestamp. For the few records that need it outside an encoder's pass (dead letters).
    public func eventTimeMs(ofRecordAt index: Int) -> Int64 {
        let record = records[index]
        guard let fields = pendingEventTime else { return record.timestampMs }
        var resolver = fields.makeResolver()
        return withValue(of: record) { resolver.resolve($0) }.map(EventTimeResolver.millis) ?? record.timestampMs
    }

    /// Calls `body` with the value bytes of a record, without copying.
    @inlinable
    public func withValue<R>(of record: Record, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[record.value])) }
    }
}
