import CRdKafka
import Foundation
import LogBridgeCore
import Logging

/// Leaving the group within a deadline.
///
/// librdkafka's synchronous calls wait for the group coordinator as long as it takes: a
/// synchronous commit waits up to `session.timeout.ms` for an unreachable coordinator (measured
/// with librdkafka 2.0.2 against the mock cluster with every broker down: 3.5 s at a 3 s session,
/// 10.5 s at 10 s), and the retries around it multiplied that into minutes. So every request made
/// while stopping is asynchronous, answered on a queue of its own that this thread polls until
/// the deadline, and the close is `rd_kafka_consumer_close_queue`, whose revoke this thread serves.
extension ConsumerLoop {
    /// Runs on the poll thread once a stop is requested: hands over what was fetched, commits,
    /// leaves the group, and destroys the client, all by the stop deadline.
    func shutdown() {
        let deadline = commitDeadline()
        // Hand over what was fetched; if the spool cannot take it, it is simply fetched again
        // (its offsets were never stored).
        flushBatch()
        if let batch = held, target.offer(batch, timeout: min(.seconds(5), Self.remaining(until: deadline))) { held = nil }
        held = nil
        commitBeforeLeaving(until: deadline)
        logger.info("leaving consumer group")
        let closed = close(until: deadline)
        statistics.pausedPartitions.set(0)
        statistics.groupJoined.set(0)
        statistics.assignedPartitions.set(0)
        if !closed {
            logger.warning(
                "could not leave the consumer group by the stop deadline (brokers or group coordinator unreachable): closing the Kafka client without leaving; nothing is lost: the spool holds the offsets of everything spooled and the next start resumes after them; the group reassigns this member's partitions after session.timeout.ms",
                metadata: ["session_timeout_ms": "\(configuration.sessionTimeoutMilliseconds)"])
        }
        destroy(closed: closed)
    }

    /// Closes a consumer whose poll loop never ran.
    func closeWithoutRunning(until deadline: ContinuousClock.Instant) {
        destroy(closed: close(until: deadline))
    }

    /// Commits every assigned partition's spooled offsets while this member's generation is still
    /// current. The revoke inside the close would commit them too, but by then a rebalance started
    /// by another member may have moved the generation on and the coordinator refuses the commit
    /// (ILLEGAL_GENERATION; seen whenever two members leave together), which makes the next owner
    /// fetch up to an auto-commit interval of records again.
    private func commitBeforeLeaving(until deadline: ContinuousClock.Instant) {
        guard !assigned.isEmpty else { return }
        let offsets = target.finishWrites(revoking: assigned)
        guard !offsets.isEmpty else { return }
        let code = commitSynchronously(offsets, until: deadline)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR__NO_OFFSET {
            logger.debug(
                "committing offsets before leaving the group failed; the revoke tries again",
                metadata: [LogKey.kafkaError: "\(RDKafkaConfig.errorMessage(code))"])
        }
    }

    /// Leaves the group through the asynchronous close, serving its revoke on this thread.
    /// - Returns: whether the consumer closed by `deadline`.
    private func close(until deadline: ContinuousClock.Instant) -> Bool {
        guard let queue = rd_kafka_queue_new(handle) else { return false }
        defer { rd_kafka_queue_destroy(queue) }
        if let error = rd_kafka_consumer_close_queue(handle, queue) {
            logger.warning("consumer close failed", metadata: [LogKey.kafkaError: "\(String(cString: rd_kafka_error_string(error)))"])
            rd_kafka_error_destroy(error)
            return false
        }
        while rd_kafka_consumer_closed(handle) == 0 {
            let left = Self.remaining(until: deadline)
            guard left > .zero else {
                abandonedRequests = true
                return false
            }
            // Served as events, not callbacks: the close forwards the consumer queue here, with
            // any fetched messages still in it, and serving a message through the callback API
            // trips librdkafka's assertion `res != RD_KAFKA_OP_RES_PASS` (rdkafka_queue.c:516;
            // seen as SIGABRT when a member left mid-stream in `make chaos` scenario 4).
            guard let event = rd_kafka_queue_poll(queue, Self.pollMilliseconds(left)) else { continue }
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE, let partitions = rd_kafka_event_topic_partition_list(event) {
                rebalance(rd_kafka_event_error(event), partitions)
            }
        }
        return true
    }

    /// Commits `offsets` by `deadline`. During a cooperative rebalance the coordinator may briefly
    /// answer REBALANCE_IN_PROGRESS while other members sync; the revoked partitions' offsets are
    /// what keeps the next owner from fetching spooled records again, so that is retried, up to
    /// 20 times 250 ms (about 5 s, as long as a rebalance should be held up for it).
    /// - Returns: the commit's error; `_TIMED_OUT` when the deadline came first.
    func commitSynchronously(_ offsets: [TopicPartition: Int64], until deadline: ContinuousClock.Instant) -> rd_kafka_resp_err_t {
        let list = RDKafkaTopicPartitionList(capacity: offsets.count)
        for (tp, offset) in offsets { list.add(tp, offset: offset) }
        var attempt = 0
        while true {
            let code = commitOnce(list, until: deadline)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { committedSynchronously.merge(offsets) { _, new in new } }
            attempt += 1
            guard code == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS || code == RD_KAFKA_RESP_ERR__WAIT_COORD, attempt < 20,
                Self.remaining(until: deadline) > .milliseconds(250)
            else { return code }
            logger.debug("offset commit deferred by the group coordinator; retrying", metadata: ["attempt": "\(attempt)"])
            usleep(250_000)
        }
    }

    /// One offset commit, answered on a queue of its own so the wait ends at `deadline`.
    private func commitOnce(_ list: RDKafkaTopicPartitionList, until deadline: ContinuousClock.Instant) -> rd_kafka_resp_err_t {
        guard Self.remaining(until: deadline) > .zero, let queue = rd_kafka_queue_new(handle) else {
            return RD_KAFKA_RESP_ERR__TIMED_OUT
        }
        // Destroying the queue while the commit is outstanding is safe: librdkafka drops an
        // answer addressed to a queue its owner destroyed.
        defer { rd_kafka_queue_destroy(queue) }
        let code = rd_kafka_commit_queue(handle, list.pointer, queue, nil, nil)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { return code }
        while true {
            let left = Self.remaining(until: deadline)
            guard left > .zero else {
                abandonedRequests = true
                return RD_KAFKA_RESP_ERR__TIMED_OUT
            }
            guard let event = rd_kafka_queue_poll(queue, Self.pollMilliseconds(left)) else { continue }
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT { return rd_kafka_event_error(event) }
        }
    }

    static func remaining(until deadline: ContinuousClock.Instant) -> Duration { max(.zero, deadline - .now) }

    /// One poll's wait: at most 100 ms, so the deadline is checked often, and at least 1 ms.
    private static func pollMilliseconds(_ left: Duration) -> Int32 { Int32(max(1, min(100, left.milliseconds))) }
}
