import CRdKafka
import Foundation
import LogBridgeCore
import Logging
import Synchronization

/// The Kafka consumer-group source: fetches on a dedicated thread and hands batches to the spool.
///
/// Exactly-once into the spool rests on three rules:
/// 1. offsets are stored for commit only after the spool transaction that holds the records is
///    durable (``IngestTarget/onDurableOffsets(_:)``);
/// 2. on assignment a partition starts at the spool's next offset when that is ahead of the group's
///    committed offset (a crash between the spool commit and the Kafka commit);
/// 3. on revocation, what is queued is made durable and the revoked partitions' offsets are
///    committed synchronously before they are released.
public final class KafkaSource: Sendable {
    private let loop: ConsumerLoop
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    /// Creates the consumer (no network traffic yet).
    /// - Throws: ``KafkaError`` when librdkafka refuses the configuration.
    public init(
        configuration: KafkaSourceConfiguration, target: any IngestTarget, statistics: SourceStatistics,
        logger: Logger
    ) throws(KafkaError) {
        loop = try ConsumerLoop(configuration: configuration, target: target, statistics: statistics, logger: logger)
    }

    /// Subscribes and starts the poll thread.
    public func start() throws(KafkaError) {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try loop.subscribe()
        loop.refresher?.start()
        startNamedThread("lb-kafka-poll") { [loop, finished] in
            loop.run()
            finished.signal()
        }
    }

    /// Stops fetching, hands what was fetched to the spool, commits offsets and leaves the group,
    /// all within `timeout`. Past it (brokers or the group coordinator unreachable) the client is
    /// closed without the group leave: the spool holds every spooled offset, so the next start
    /// resumes after them, and the group reassigns this member's partitions once its session
    /// times out. Blocks until done; call it off the cooperative pool.
    public func stop(within timeout: Duration = .seconds(10)) {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let deadline = ContinuousClock.now + timeout
        loop.requestStop(deadline: deadline)
        guard started.load(ordering: .acquiring) else {
            loop.closeWithoutRunning(until: deadline)
            return
        }
        // The poll thread keeps to the deadline itself; this wait bounds a librdkafka call that
        // would not (the thread is then left behind, and with it the client).
        let grace = DispatchTime.now() + .milliseconds(Int(clamping: (timeout + .seconds(2)).milliseconds))
        guard finished.wait(timeout: grace) == .success else {
            loop.logger.error(
                "the Kafka client did not stop within the stop deadline; continuing without it",
                metadata: ["timeout_ms": "\(timeout.milliseconds)"])
            return
        }
    }

    /// Set when librdkafka reported a fatal error; the gateway should exit and be restarted.
    public var fatalError: KafkaError? { loop.fatal.withLock { $0 } }

    /// The Entra ID token refresher, with Entra ID sign-in.
    public var tokenRefresher: OAuthBearerRefresher? { loop.refresher }

    /// Partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { loop.sharedAssignment.withLock { $0 } }
}

/// The state confined to the poll thread, plus the librdkafka handle.
///
/// `@unchecked Sendable`: `run()` and the librdkafka callbacks it triggers (rebalance) execute on
/// the poll thread only; other threads touch only the `Mutex`/`Atomic` members and call
/// thread-safe librdkafka functions (`rd_kafka_offsets_store`).
final class ConsumerLoop: @unchecked Sendable {
    let configuration: KafkaSourceConfiguration
    let target: any IngestTarget
    let statistics: SourceStatistics
    let logger: Logger
    let handle: OpaquePointer
    /// Keeps an Entra ID token on `handle` (Entra ID sign-in only).
    let refresher: OAuthBearerRefresher?
    /// Set once the consumer has left the group: the handle is destroyed then, so librdkafka stops
    /// its threads and reconnect attempts even while this object lives on.
    private let destroyed = Mutex<Bool>(false)
    /// Whether the group ever handed this member an assignment (even an empty one).
    private let everAssigned = Atomic<Bool>(false)
    let fatal = Mutex<KafkaError?>(nil)
    let sharedAssignment = Mutex<Set<TopicPartition>>([])
    private let stopRequested = Atomic<Bool>(false)
    /// When the stop must be over: commits and the group leave give up then.
    private let stopDeadline = Mutex<ContinuousClock.Instant?>(nil)

    // Poll-thread state.
    /// Unchecked: only the poll thread touches it, and the runtime's exclusivity check on a class
    /// property (`swift_beginAccess`, a thread-local access set) ran for every message
    /// (docs/cpu-profile.md, "Exclusivity checks").
    @exclusivity(unchecked) private var builder: BatchBuilder
    /// When librdkafka may have stopped fetching after its queue was full (`restartStoppedFetches`).
    private var stallWatch: FetchStallWatch
    var held: IngestBatch?
    @exclusivity(unchecked) private var paused = false
    var assigned: Set<TopicPartition> = []
    /// While paused, messages already fetched are dropped; each partition seeks back to the first
    /// dropped offset before resuming, so nothing is skipped.
    private var rewinds: [TopicPartition: Int64] = [:]
    /// Offsets this member committed synchronously (on revocation or before leaving), so a second
    /// commit of the same offsets is not attempted with a generation that may have moved on.
    var committedSynchronously: [TopicPartition: Int64] = [:]
    /// A commit or close was given up at its deadline while librdkafka still waits for the
    /// coordinator's answer: destroying the handle then waits for that request to time out.
    var abandonedRequests = false

    init(
        configuration: KafkaSourceConfiguration, target: any IngestTarget, statistics: SourceStatistics,
        logger: Logger
    ) throws(KafkaError) {
        self.configuration = configuration
        self.target = target
        self.statistics = statistics
        builder = BatchBuilder(keepsHeaders: configuration.keepsHeaders)
        var logger = logger
        logger[metadataKey: LogKey.group] = "\(configuration.groupID)"
        self.logger = logger

        let clientID = "logbridge-\(ProcessInfo.processInfo.hostName)"
        let conf = try RDKafkaConfig.make(configuration.librdkafkaProperties(clientID: clientID))
        refresher = configuration.entraID.map { OAuthBearerRefresher(signIn: $0, statistics: statistics, logger: logger) }
        let context = CallbackContext(logger: logger, refresher: refresher)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passRetained(context).toOpaque())
        rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
        rd_kafka_conf_set_error_cb(conf, kafkaErrorCallback)
        rd_kafka_conf_set_rebalance_cb(conf, kafkaRebalanceCallback)
        if refresher != nil { RDKafkaOAuthBearer.install(on: conf) }

        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            let message = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw .client(code: -1, message: message, operation: "rd_kafka_new")
        }
        handle = rk
        stallWatch = Self.fetchStallWatch(for: rk)
        refresher?.attach(rk)
        context.loop = self
        // Route every partition's messages (and rebalance events) to the consumer queue.
        rd_kafka_poll_set_consumer(rk)

        target.onDurableOffsets { [weak self] offsets in self?.storeOffsets(offsets) }
    }

    deinit {
        destroy()
        builder.discard()
    }

    /// Destroys the handle once. After a timely close it is destroyed here; after a close or
    /// commit given up at the deadline it is destroyed without the group leave, on a thread of
    /// its own: librdkafka waits there, up to `session.timeout.ms`, for the requests it still has
    /// outstanding, and the stop must not.
    func destroy(closed: Bool = true) {
        // Marked under the lock, destroyed outside it: `storeOffsets` (spool writer thread) then
        // either finished its call on the live handle or sees the mark and skips.
        let first = destroyed.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        // No token may be set on the handle once it is (or is about to be) destroyed.
        refresher?.stop()
        guard everAssigned.load(ordering: .acquiring) else {
            // librdkafka < 2.3.0 (Debian ships 2.0.2) aborts in
            // rd_kafka_sticky_assignor_state_destroy when a cooperative-sticky consumer that
            // never received an assignment is destroyed (librdkafka issue #4312). The consumer
            // has already left the group; its handle is reclaimed with the process instead.
            return
        }
        let client = ClientHandle(pointer: handle, flags: closed ? 0 : Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
        if closed && !abandonedRequests { client.destroy() } else { startNamedThread("lb-kafka-destroy") { client.destroy() } }
    }

    /// A handle handed to the thread that destroys it.
    ///
    /// `@unchecked Sendable`: nothing else uses the handle once it is marked destroyed.
    private struct ClientHandle: @unchecked Sendable {
        let pointer: OpaquePointer
        let flags: Int32

        func destroy() {
            let opaque = rd_kafka_opaque(pointer)
            rd_kafka_destroy_flags(pointer, flags)
            if let opaque { Unmanaged<CallbackContext>.fromOpaque(opaque).release() }
        }
    }

    func subscribe() throws(KafkaError) {
        let list = RDKafkaTopicPartitionList()
        for topic in configuration.topics {
            list.add(TopicPartition(topic: topic, partition: RD_KAFKA_PARTITION_UA))
        }
        let code = rd_kafka_subscribe(handle, list.pointer)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "subscribe")
        }
        logger.info("joining consumer group", metadata: [LogKey.topic: "\(configuration.topics.joined(separator: ","))"])
    }

    /// Asks the poll loop to stop; its commits and the group leave end by `deadline` (the
    /// earliest of the deadlines asked for).
    func requestStop(deadline: ContinuousClock.Instant) {
        stopDeadline.withLock { $0 = min($0 ?? deadline, deadline) }
        stopRequested.store(true, ordering: .releasing)
    }

    var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }

    /// The stop deadline once a stop was requested, else `budget` from now (a rebalance's commit).
    func commitDeadline(budget: Duration = .seconds(10)) -> ContinuousClock.Instant {
        stopDeadline.withLock { $0 } ?? .now + budget
    }

    // MARK: Poll loop

    func run() {
        let pollTimeoutMs: Int32 = 100
        let heartbeat = statistics.heartbeat("kafka-poll")
        defer { heartbeat.stop() }
        var lagUpdated = ContinuousClock.now
        while !stopRequested.load(ordering: .acquiring) {
            heartbeat.beat()
            if ContinuousClock.now - lagUpdated >= .seconds(2) {
                updateLag()
                lagUpdated = .now
            }
            applyFlowControl()
            // Take what librdkafka has ready, up to `messagesPerRound`, before the checks above
            // run again: per message, the two clock reads, the spool's state and the gauge they
            // touch were 1.5% of the forwarder's CPU in the Elasticsearch bench profile. A pause
            // still takes effect within one round, long before the spool's high watermark leaves
            // no room (a round is at most one batch).
            var timeout: Int32 = builder.isEmpty ? pollTimeoutMs : 0
            for _ in 0..<Self.messagesPerRound {
                guard let message = rd_kafka_consumer_poll(handle, timeout) else {
                    if stallWatch.foundEmpty(waited: timeout > 0), !paused { restartStoppedFetches() }
                    flushBatch()
                    break
                }
                stallWatch.took(bytes: message.pointee.len &+ message.pointee.key_len)
                timeout = 0
                handle(message)
                if builder.isFull(configuration) {
                    flushBatch()
                    break
                }
            }
        }
        shutdown()
    }

    /// Messages taken per round of the poll loop between its heartbeat and flow-control checks.
    static let messagesPerRound = 512

    private func handle(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let err = message.pointee.err
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = RDKafkaConfig.errorMessage(err)
            if err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                // Not enabled, but harmless.
            } else if err == RD_KAFKA_RESP_ERR__FATAL {
                reportFatal()
            } else {
                logger.warning("consumer error", metadata: [LogKey.kafkaError: "\(text)"])
            }
            rd_kafka_message_destroy(message)
            return
        }
        if paused {
            // Fetched before the pause took effect: drop it and seek back before resuming.
            let tp = TopicPartition(topic: String(cString: rd_kafka_topic_name(message.pointee.rkt)), partition: message.pointee.partition)
            rewinds[tp] = min(rewinds[tp] ?? .max, message.pointee.offset)
            rd_kafka_message_destroy(message)
            return
        }
        builder.add(message)
    }

    func flushBatch() {
        guard !builder.isEmpty else { return }
        let batch = builder.makeBatch()
        countPerPartition(batch)
        statistics.consumed.add(batch.records.count)
        statistics.consumedBytes.add(batch.byteCount)
        if !target.offer(batch, timeout: .milliseconds(200)) {
            held = batch
        }
    }

    /// Counts the batch's records per partition: records arrive grouped by partition, so this is
    /// one counter update per run of a partition, not per record.
    private func countPerPartition(_ batch: IngestBatch) {
        var topicIndex = -1
        var partition: Int32 = -1
        var run = 0
        func flush() {
            if run > 0 { statistics.sourceRecords(TopicPartition(topic: batch.topics[topicIndex], partition: partition)).add(run) }
        }
        for record in batch.records {
            if record.topicIndex != topicIndex || record.partition != partition {
                flush()
                topicIndex = record.topicIndex
                partition = record.partition
                run = 0
            }
            run += 1
        }
        flush()
    }

    /// Consumer lag per assigned partition, from the high watermarks librdkafka caches from fetch
    /// responses (no request is made) and the next offset the spool expects.
    private func updateLag() {
        guard !assigned.isEmpty else { return }
        let spooled = target.nextOffsets(for: Array(assigned))
        for tp in assigned {
            var low: Int64 = -1
            var high: Int64 = -1
            let code = rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { continue }
            var next = spooled[tp]
            if next == nil {
                let list = RDKafkaTopicPartitionList.make([tp])
                if rd_kafka_position(handle, list.pointer) == RD_KAFKA_RESP_ERR_NO_ERROR {
                    list.forEach { _, offset, err in if err == RD_KAFKA_RESP_ERR_NO_ERROR && offset >= 0 { next = offset } }
                }
            }
            guard let next else { continue }
            statistics.setConsumerLag(tp, max(0, high - max(next, low)))
        }
    }

    /// Pauses the assignment while the spool is full or cannot keep up, and resumes it (after
    /// seeking back past anything dropped) once there is room. Polling continues meanwhile, so the
    /// group does not evict this member for exceeding `max.poll.interval.ms`.
    private func applyFlowControl() {
        if let batch = held {
            if target.offer(batch, timeout: paused ? .milliseconds(50) : .milliseconds(200)) {
                held = nil
            }
        }
        let wantPause = held != nil || target.wantsSourcePaused
        if wantPause && !paused {
            setPaused(true, partitions: assigned)
            paused = true
            logger.warning(
                "spool full or behind: pausing Kafka partitions",
                metadata: ["partitions": "\(assigned.count)"])
        } else if !wantPause && paused {
            seekBackDropped()
            setPaused(false, partitions: assigned)
            paused = false
            logger.info("spool has room again: resuming Kafka partitions", metadata: ["partitions": "\(assigned.count)"])
        }
        statistics.pausedPartitions.set(paused ? assigned.count : 0)
    }

    private func setPaused(_ pause: Bool, partitions: Set<TopicPartition>) {
        guard !partitions.isEmpty else { return }
        let list = RDKafkaTopicPartitionList.make(partitions)
        let code = pause ? rd_kafka_pause_partitions(handle, list.pointer) : rd_kafka_resume_partitions(handle, list.pointer)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning(
                "could not \(pause ? "pause" : "resume") partitions",
                metadata: [LogKey.kafkaError: "\(RDKafkaConfig.errorMessage(code))"])
        }
    }

    private func seekBackDropped() {
        let due = rewinds.filter { assigned.contains($0.key) }
        rewinds.removeAll()
        guard !due.isEmpty else { return }
        let list = RDKafkaTopicPartitionList()
        for (tp, offset) in due { list.add(tp, offset: offset) }
        if let error = rd_kafka_seek_partitions(handle, list.pointer, 10_000) {
            logger.warning("seek after pause failed", metadata: [LogKey.kafkaError: "\(String(cString: rd_kafka_error_string(error)))"])
            rd_kafka_error_destroy(error)
        }
    }

    // MARK: Offsets

    /// Called on the spool writer thread once offsets are durable in the spool.
    func storeOffsets(_ offsets: [TopicPartition: Int64]) {
        let list = RDKafkaTopicPartitionList(capacity: offsets.count)
        for (tp, offset) in offsets { list.add(tp, offset: offset) }
        // Partitions revoked in the meantime answer ERR__STATE; their offsets were committed on
        // revocation. The lock keeps the handle alive during the call.
        destroyed.withLock { done in
            if !done { _ = rd_kafka_offsets_store(handle, list.pointer) }
        }
    }

    // MARK: Rebalance (poll thread, from inside rd_kafka_consumer_poll or close)

    func rebalance(_ err: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        statistics.rebalances.add(1)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            everAssigned.store(true, ordering: .releasing)
            assign(partitions, cooperative: cooperative)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            revoke(partitions, cooperative: cooperative)
        default:
            logger.error("rebalance failed", metadata: [LogKey.kafkaError: "\(RDKafkaConfig.errorMessage(err))"])
            if cooperative { revoke(partitions, cooperative: true) } else { _ = rd_kafka_assign(handle, nil) }
        }
    }

    private func assign(_ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, cooperative: Bool) {
        let tps = RDKafkaTopicPartitionList.partitions(of: partitions)
        let spooled = target.nextOffsets(for: tps)
        var committed: [TopicPartition: Int64] = [:]
        if !spooled.isEmpty {
            let query = RDKafkaTopicPartitionList.make(spooled.keys)
            var code = rd_kafka_committed(handle, query.pointer, 10_000)
            for _ in 0..<3 where code != RD_KAFKA_RESP_ERR_NO_ERROR && !isStopRequested {
                // Starting from the spool's offsets is safe but may repeat what another member
                // delivered and committed meanwhile: ask again before settling for it.
                usleep(500_000)
                code = rd_kafka_committed(handle, query.pointer, 10_000)
            }
            if code == RD_KAFKA_RESP_ERR_NO_ERROR {
                query.forEach { tp, offset, err in if err == RD_KAFKA_RESP_ERR_NO_ERROR && offset >= 0 { committed[tp] = offset } }
            } else {
                logger.warning(
                    "could not read committed offsets; starting from the spool's offsets",
                    metadata: [LogKey.kafkaError: "\(RDKafkaConfig.errorMessage(code))"])
            }
        }
        let list = RDKafkaTopicPartitionList(capacity: tps.count)
        var fromSpool = 0
        for tp in tps {
            if let next = spooled[tp], next > (committed[tp] ?? -1) {
                // The spool holds records the group never committed (crash between the spool commit
                // and the Kafka commit): continue after them instead of fetching them again.
                list.add(tp, offset: next)
                fromSpool += 1
            } else {
                list.add(tp)
            }
        }
        if cooperative {
            if let error = rd_kafka_incremental_assign(handle, list.pointer) {
                logger.error("incremental assign failed", metadata: [LogKey.kafkaError: "\(String(cString: rd_kafka_error_string(error)))"])
                rd_kafka_error_destroy(error)
            }
        } else {
            _ = rd_kafka_assign(handle, list.pointer)
        }
        assigned.formUnion(tps)
        sharedAssignment.withLock { $0 = assigned }
        statistics.assignedPartitions.set(assigned.count)
        statistics.groupJoined.set(1)
        if paused { setPaused(true, partitions: Set(tps)) }
        logger.info(
            "partitions assigned",
            metadata: ["partitions": "\(tps.count)", "from_spool": "\(fromSpool)", "assigned": "\(assigned.count)"])
    }

    private func revoke(_ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, cooperative: Bool) {
        let tps = Set(RDKafkaTopicPartitionList.partitions(of: partitions))
        let lost = rd_kafka_assignment_lost(handle) != 0
        // Records of revoked partitions not yet handed to the spool are dropped: their offsets were
        // never stored, so the next owner fetches them.
        builder.remove(partitions: tps)
        held?.removeRecords(of: tps)
        if held?.records.isEmpty == true { held = nil }
        // Offsets already committed before leaving are not committed again: the generation may
        // have moved on since, and a refused repeat would only add noise.
        let offsets = target.finishWrites(revoking: tps).filter { committedSynchronously[$0.key] != $0.value }
        if !lost && !offsets.isEmpty {
            let code = commitSynchronously(offsets, until: commitDeadline())
            if code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR__NO_OFFSET {
                statistics.revokeCommitFailures.add(1)
                logger.warning(
                    code == RD_KAFKA_RESP_ERR__TIMED_OUT
                        ? "the group coordinator did not answer the revoked partitions' offset commit in time; the spool keeps them, but their next owner fetches again from the last committed offset"
                        : "the group coordinator refused the revoked partitions' offsets; their next owner fetches again from the last committed offset (Elasticsearch ids absorb the repeats)",
                    metadata: [LogKey.kafkaError: "\(RDKafkaConfig.errorMessage(code))", "partitions": "\(offsets.count)"])
            }
        }
        for tp in tps { committedSynchronously[tp] = nil }
        if cooperative {
            if let error = rd_kafka_incremental_unassign(handle, partitions) {
                logger.error("incremental unassign failed", metadata: [LogKey.kafkaError: "\(String(cString: rd_kafka_error_string(error)))"])
                rd_kafka_error_destroy(error)
            }
        } else {
            _ = rd_kafka_assign(handle, nil)
        }
        assigned.subtract(tps)
        for tp in tps {
            rewinds[tp] = nil
            statistics.setConsumerLag(tp, nil)
        }
        sharedAssignment.withLock { $0 = assigned }
        statistics.assignedPartitions.set(assigned.count)
        if lost { statistics.groupJoined.set(0) }
        logger.info(
            lost ? "partitions lost" : "partitions revoked",
            metadata: ["partitions": "\(tps.count)", "assigned": "\(assigned.count)"])
    }

    func reportFatal() {
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &buffer, buffer.count)
        let message = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        logger.critical("fatal consumer error", metadata: [LogKey.kafkaError: "\(message)"])
        fatal.withLock { $0 = .fatal(message: "\(RDKafkaConfig.errorMessage(code)): \(message)") }
        requestStop(deadline: .now + .seconds(10))
    }
}

/// What librdkafka's callbacks reach through the configuration's opaque pointer.
///
/// `@unchecked Sendable`: `logger` and `refresher` are immutable and thread-safe; `loop` is set
/// once before the first poll and only dereferenced by the rebalance callback, on the poll thread.
final class CallbackContext: @unchecked Sendable {
    let logger: Logger
    let refresher: OAuthBearerRefresher?
    weak var loop: ConsumerLoop?
    init(logger: Logger, refresher: OAuthBearerRefresher? = nil) {
        self.logger = logger
        self.refresher = refresher
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> CallbackContext? {
        opaque.map { Unmanaged<CallbackContext>.fromOpaque($0).takeUnretainedValue() }
    }
}

private let kafkaLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    rk, level, facility, message in
    guard let rk, let context = CallbackContext.from(rd_kafka_opaque(rk)) else { return }
    let text = message.map { String(cString: $0) } ?? ""
    let facilityText = facility.map { String(cString: $0) } ?? ""
    let logLevel: Logger.Level
    switch level {
    case ...2: logLevel = .critical
    // librdkafka logs connection failures at 3 and retries by itself: a warning, not an error.
    case 3, 4: logLevel = .warning
    case 5, 6: logLevel = .info
    default: logLevel = .debug
    }
    context.logger.log(level: logLevel, "librdkafka: \(text)", metadata: ["kafka.facility": "\(facilityText)"])
}

private let kafkaErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
    rk, err, reason, opaque in
    guard let context = CallbackContext.from(opaque) else { return }
    let text = reason.map { String(cString: $0) } ?? ""
    if err == RD_KAFKA_RESP_ERR__FATAL.rawValue {
        context.loop?.reportFatal()
    } else if err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue {
        context.logger.warning("all brokers are down; retrying", metadata: [LogKey.kafkaError: "\(text)"])
    } else {
        context.logger.debug("kafka client error (librdkafka retries by itself)", metadata: [LogKey.kafkaError: "\(text)"])
    }
}

private let kafkaRebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { _, err, partitions, opaque in
    guard let partitions, let loop = CallbackContext.from(opaque)?.loop else { return }
    loop.rebalance(err, partitions)
}
