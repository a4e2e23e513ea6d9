import CRdKafka
import LogBridgeCore

/// Collects fetched messages into an ``IngestBatch`` without copying their payloads: the batch
/// keeps the messages alive and destroys them when the spool has written it.
struct BatchBuilder {
    private var messages: [UnsafeMutablePointer<rd_kafka_message_t>] = []
    private var records: [IngestRecord] = []
    private var topics: [String] = []
    /// Topic handle -> index in `topics`; one dictionary probe on a pointer per message.
    private var topicIndexes: [OpaquePointer: Int] = [:]
    private var bytes = 0

    var isEmpty: Bool { messages.isEmpty }

    func isFull(_ configuration: KafkaSourceConfiguration) -> Bool {
        messages.count >= configuration.batchMaxRecords || bytes >= configuration.batchMaxBytes
    }

    mutating func add(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let rkt = m.rkt!
        let topicIndex: Int
        if let known = topicIndexes[rkt] {
            topicIndex = known
        } else {
            topicIndex = topics.count
            topics.append(String(cString: rd_kafka_topic_name(rkt)))
            topicIndexes[rkt] = topicIndex
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        messages.append(message)
        records.append(IngestRecord(
            topicIndex: topicIndex, partition: m.partition, offset: m.offset, timestampMs: timestamp,
            key: m.key.map { UnsafeRawBufferPointer(start: $0, count: m.key_len) },
            value: m.payload.map { UnsafeRawBufferPointer(start: $0, count: m.len) }))
        bytes += m.len
    }

    /// Drops pending messages of `partitions`.
    mutating func remove(partitions: Set<TopicPartition>) {
        guard !partitions.isEmpty, !messages.isEmpty else { return }
        var keptMessages: [UnsafeMutablePointer<rd_kafka_message_t>] = []
        var keptRecords: [IngestRecord] = []
        bytes = 0
        for (message, record) in zip(messages, records) {
            if partitions.contains(TopicPartition(topic: topics[record.topicIndex], partition: record.partition)) {
                rd_kafka_message_destroy(message)
            } else {
                keptMessages.append(message)
                keptRecords.append(record)
                bytes += record.valueCount
            }
        }
        messages = keptMessages
        records = keptRecords
    }

    /// Hands the collected messages over and starts a new batch.
    mutating func makeBatch() -> IngestBatch {
        let owned = MessageOwnership(messages)
        let batch = IngestBatch(topics: topics, records: records, release: { owned.destroy() })
        messages = []
        records = []
        records.reserveCapacity(1024)
        bytes = 0
        // Topic handles stay valid while the consumer lives; keep the index table across batches.
        return batch
    }
}

/// The librdkafka messages backing one batch; destroyed once, when the batch is released.
private final class MessageOwnership: @unchecked Sendable {
    private let messages: [UnsafeMutablePointer<rd_kafka_message_t>]
    init(_ messages: [UnsafeMutablePointer<rd_kafka_message_t>]) { self.messages = messages }
    func destroy() { for message in messages { rd_kafka_message_destroy(message) } }
}
