import CRdKafka
import LogBridgeCore
import Logging

/// Tells the poll loop when librdkafka may have stopped fetching and not started again.
///
/// librdkafka 2.0 (Debian 12 ships 2.0.2) stops fetching a broker's partitions while the consumer
/// queue holds more than `queued.max.messages.kbytes` or `queued.min.messages`, and nothing wakes
/// the broker's thread when the application drains the queue: fetching resumes at the thread's
/// next wake-up, which can be a second away (`rd_kafka_max_block_ms` in `rdkafka_broker.c`; 2.3
/// added `fetch.queue.backoff.ms`, 1 s by default). A consumer working through a backlog faster
/// than it can spool fills the queue, drains it, then idles: on the bench's 1,000,000 records, 6 of
/// 8 runs stalled for 0.4-1.7 s in all (docs/cpu-profile.md, "Fetch stalls").
///
/// The stall can only follow a queue over those thresholds, and the poll loop drains the queue
/// whole before it finds it empty: so a run of messages without an empty poll at least that large
/// (90% of it, for the difference in how librdkafka counts bytes), then a poll that waited its
/// timeout for nothing, is when fetching may be stopped. One restart per such drain: a broker that
/// is merely slow loses at most the one answer the restart makes outdated.
struct FetchStallWatch {
    let bytesThreshold: Int
    let messagesThreshold: Int
    private var streakBytes = 0
    private var streakMessages = 0
    private var drainedFullQueue = false

    /// - Parameters:
    ///   - queuedMaxKilobytes: librdkafka's `queued.max.messages.kbytes` in effect.
    ///   - queuedMinMessages: its `queued.min.messages` in effect.
    init(queuedMaxKilobytes: Int, queuedMinMessages: Int) {
        bytesThreshold = max(1, queuedMaxKilobytes * 1024 / 10 * 9)
        messagesThreshold = max(1, queuedMinMessages / 10 * 9)
    }

    /// A message was taken from the queue.
    @inline(__always) mutating func took(bytes: Int) {
        streakBytes &+= bytes
        streakMessages &+= 1
    }

    /// The poll found the queue empty; `waited`: after waiting its timeout. Returns whether fetching
    /// should be restarted now.
    mutating func foundEmpty(waited: Bool) -> Bool {
        if streakBytes >= bytesThreshold || streakMessages >= messagesThreshold { drainedFullQueue = true }
        streakBytes = 0
        streakMessages = 0
        guard waited, drainedFullQueue else { return false }
        drainedFullQueue = false
        return true
    }
}

extension ConsumerLoop {
    /// The thresholds librdkafka stops fetching at, as the client has them (its defaults included).
    static func fetchStallWatch(for handle: OpaquePointer) -> FetchStallWatch {
        func setting(_ name: String, default value: Int) -> Int {
            var buffer = [CChar](repeating: 0, count: 32)
            var size = buffer.count
            guard rd_kafka_conf_get(rd_kafka_conf(handle), name, &buffer, &size) == RD_KAFKA_CONF_OK else { return value }
            return Int(String(cString: buffer)) ?? value
        }
        return FetchStallWatch(
            queuedMaxKilobytes: setting("queued.max.messages.kbytes", default: 65536),
            queuedMinMessages: setting("queued.min.messages", default: 100_000))
    }

    /// Restarts fetching for the assigned partitions that have records left to fetch (their
    /// position is below the high watermark librdkafka cached from its last fetch answer): a seek
    /// to a concrete offset is what wakes the broker thread in librdkafka 2.0 ("seek done" in
    /// `rdkafka_partition.c`; a pause and resume go to its main thread and wake nothing). Each
    /// partition seeks to its own position, the offset after the last message the loop took, so
    /// nothing is skipped or repeated: anything fetched before is outdated by the seek and fetched
    /// again from there.
    func restartStoppedFetches() {
        guard !assigned.isEmpty else { return }
        let positions = RDKafkaTopicPartitionList.make(assigned)
        guard rd_kafka_position(handle, positions.pointer) == RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        let seeks = RDKafkaTopicPartitionList()
        positions.forEach { tp, position, err in
            var low: Int64 = -1
            var high: Int64 = -1
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, position >= 0,
                  rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high > position
            else { return }
            seeks.add(tp, offset: position)
        }
        guard seeks.count > 0 else { return }
        // Asynchronous (timeout 0): the poll loop goes back to polling at once.
        if let error = rd_kafka_seek_partitions(handle, seeks.pointer, 0) {
            logger.debug("restarting fetches failed", metadata: [LogKey.kafkaError: "\(String(cString: rd_kafka_error_string(error)))"])
            rd_kafka_error_destroy(error)
            return
        }
        statistics.fetchRestarts.add(1)
        logger.debug("restarted fetching after librdkafka's prefetch queue was full", metadata: ["partitions": "\(seeks.count)"])
    }
}
