import CLMDB
import DequeModule
import Foundation
import LogBridgeCore
import Logging

/// Work handed to the spool writer thread, applied in the order it was queued.
enum WriterItem {
    /// Records fetched from Kafka, to be spooled with their partitions' next offsets.
    case ingest(IngestBatch)
    /// The writer's own: the part of a batch that fits in the spool (at least one record); the
    /// rest goes back to `pending` once the transaction is durable.
    case partialIngest(IngestBatch, byteLimit: Int)
    /// A sink delivered everything before `checkpoint.nextSequence`.
    case checkpoint(sink: String, SinkCheckpoint, deadLetters: [DeadLetter], done: @Sendable (SpoolError?) -> Void)
    case deadLetters([DeadLetter], done: @Sendable (SpoolError?) -> Void)
    /// `dlq replay` / `dlq purge`: up to `limit` dead letters of `stage` (all stages when nil)
    /// are deleted; with `replayTo`, those whose stage is one of these sinks go back into the log
    /// for that sink only, except truncated ones, which stay. `done` receives what was done.
    case maintainDeadLetters(
        stage: String?, replayTo: Set<String>?, limit: Int, done: @Sendable (Result<DeadLetterMaintenance, SpoolError>) -> Void)
    /// A sink's own bookkeeping (HEC channels and outstanding acks): `value` nil deletes it.
    case note(key: [UInt8], value: [UInt8]?, done: @Sendable (SpoolError?) -> Void)
    /// Everything queued before is committed (or, while the spool is full, dropped for `revoked`);
    /// `done` receives the revoked partitions' next offsets.
    case barrier(revoked: Set<TopicPartition>, done: @Sendable ([TopicPartition: Int64]) -> Void)
}

/// Compact key for per-record offset bookkeeping: hashing two integers instead of a topic string.
struct PartitionKey: Hashable {
    var topic: UInt16
    var partition: Int32
}

/// The single thread that writes to the spool.
///
/// LMDB allows one write transaction at a time, and a commit blocks on fsync, so all writes go
/// through this thread: Kafka batches, sink checkpoints, dead letters and trimming share
/// transactions and fsyncs. Other threads only enqueue work and wait for its completion.
///
/// `@unchecked Sendable`: `queue`, `queuedBytes`, `pendingBytes` and `stopping` are guarded by
/// `condition`; every other stored property is confined to the writer thread after `start()`.
final class SpoolWriter: @unchecked Sendable {
    let env: LMDBEnvironment
    let db: SpoolDatabases
    /// Reads records back (a skip names the first and last record it passed).
    let log: SpoolLogReader
    let configuration: SpoolConfiguration
    let statistics: SpoolStatistics
    let logger: Logger
    let published: Published
    private let signal: SequenceSignal
    private let durableOffsets: @Sendable ([TopicPartition: Int64]) -> Void

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [WriterItem] = []
    private var queuedBytes = 0
    private var pendingBytes = 0
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    // Writer-thread state, mirrored in LMDB.
    var state: SpoolState
    /// The segment being filled in the current transaction (empty between transactions).
    private let segments: SegmentBuilder
    /// Batches that could not be written because the map or disk was full; retried as space frees.
    private var pending: Deque<IngestBatch> = []
    var trimBacklog = false
    /// Record bytes and spool times along the log, to measure each sink's backlog; changed in
    /// place during a transaction and rolled back if it fails.
    var backlog: BacklogIndex
    /// Each sink's `backlog` setting (changed by a configuration reload).
    let backlogLimits: BacklogLimits
    /// Skip episodes under way, by sink: logged when they start and when they end.
    var skipEpisodes: [String: SkipEpisode] = [:]
    /// The dead-letter store is over its limit and more letters must go than one transaction
    /// deletes (the limit was lowered, or a large batch of letters arrived).
    private var evictBacklog = false
    /// Evictions not logged yet, and when they were last logged: once a minute at most, so a sink
    /// rejecting everything into a full store does not flood the log.
    private var evictionsToLog = 0
    private var evictionLogged: ContinuousClock.Instant?
    /// Live bytes after the last commit; ingest stops short of `maxBytes` so that cursor commits
    /// and trims (which need pages too) always fit in the map's reserve.
    var usedBytes = 0

    /// Records deleted per transaction when trimming, so a large trim never makes one huge transaction.
    static let trimLimit = 20_000
    /// Segments deleted per transaction (each holds up to 256 KiB of records).
    static let segmentTrimLimit = 1_000

    init(
        env: LMDBEnvironment, db: SpoolDatabases, log: SpoolLogReader, state: SpoolState, configuration: SpoolConfiguration,
        statistics: SpoolStatistics, published: Published, signal: SequenceSignal, logger: Logger,
        backlog: BacklogIndex, backlogLimits: BacklogLimits,
        durableOffsets: @escaping @Sendable ([TopicPartition: Int64]) -> Void
    ) {
        self.backlog = backlog
        self.backlogLimits = backlogLimits
        self.env = env
        self.db = db
        self.log = log
        self.segments = SegmentBuilder(compression: configuration.compression)
        self.state = state
        self.configuration = configuration
        self.statistics = statistics
        self.published = published
        self.signal = signal
        self.logger = logger
        self.durableOffsets = durableOffsets
        // A trim at the first transaction deletes what every sink had passed before a restart.
        self.trimBacklog = true
        self.usedBytes = published.read { $0.usage.usedBytes }
        self.evictBacklog = published.read { $0.usage.deadLetterBytes } > configuration.deadLetterByteLimit
    }

    func start() {
        startNamedThread("lb-spool-writer") { [self] in
            self.loop()
            self.finished.signal()
        }
    }

    // MARK: - Producers (any thread)

    /// Queues a fetched batch, waiting up to `timeout` for room. Returns false when the queue stayed
    /// full (the spool cannot keep up or is out of space): the caller should pause its source.
    func offer(_ batch: IngestBatch, timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.secondsDouble)
        condition.lock()
        defer { condition.unlock() }
        while !stopping && !(queuedBytes + pendingBytes == 0 || queuedBytes + pendingBytes + batch.byteCount <= configuration.queueMaxBytes) {
            if !condition.wait(until: deadline) { break }
        }
        guard !stopping, queuedBytes + pendingBytes == 0 || queuedBytes + pendingBytes + batch.byteCount <= configuration.queueMaxBytes else {
            return false
        }
        queue.append(.ingest(batch))
        queuedBytes += batch.byteCount
        condition.broadcast()
        return true
    }

    /// Queues non-ingest work; never refused (it is small, and checkpoints are what free space).
    func enqueue(_ item: WriterItem) {
        condition.lock()
        queue.append(item)
        condition.broadcast()
        condition.unlock()
    }

    /// Commits what is queued, then ends the thread. Blocks until it has.
    func stop() {
        condition.lock()
        let already = stopping
        stopping = true
        condition.broadcast()
        condition.unlock()
        if !already { finished.wait() }
    }

    // MARK: - Writer thread

    private func loop() {
        let heartbeat = statistics.heartbeat("spool-writer")
        defer { heartbeat.stop() }
        while true {
            heartbeat.beat()
            condition.lock()
            while queue.isEmpty && !stopping && !trimBacklog && !evictBacklog {
                // Wakes at least every second so the heartbeat shows the thread is alive when idle.
                if !condition.wait(until: Date(timeIntervalSinceNow: pending.isEmpty ? 1 : 0.25)) {
                    break
                }
            }
            let items = queue
            queue.removeAll(keepingCapacity: true)
            queuedBytes = 0
            let stop = stopping
            condition.broadcast()
            condition.unlock()

            process(items)
            if stop {
                condition.lock()
                let drained = queue.isEmpty
                condition.unlock()
                if drained { break }
            }
        }
        if !pending.isEmpty {
            logger.warning(
                "spool stopped with batches it had no room for; their offsets were not committed and they will be fetched again",
                metadata: [LogKey.records: "\(pending.reduce(0) { $0 + $1.records.count })"])
            pending.removeAll()
        }
    }

    private func process(_ items: [WriterItem]) {
        var segment: [WriterItem] = []
        var segmentBytes = 0
        var stopAdmitting = false

        func flush() {
            commit(segment)
            segment.removeAll()
            segmentBytes = 0
        }
        /// Takes a batch into the transaction as far as max_bytes allows; the rest waits in
        /// `pending`, in Kafka order, until sinks free room.
        func admit(_ batch: IngestBatch) {
            if stopAdmitting || !pending.isEmpty {
                pending.append(batch)
                addPendingBytes(batch.byteCount)
                return
            }
            let room = roomForPayload() - segmentBytes
            if batch.byteCount <= room {
                segment.append(.ingest(batch))
                segmentBytes += batch.byteCount
                if segmentBytes >= configuration.transactionMaxBytes { flush() }
            } else {
                if room > 0 {
                    segment.append(.partialIngest(batch, byteLimit: room))
                } else {
                    pending.append(batch)
                    addPendingBytes(batch.byteCount)
                }
                stopAdmitting = true
            }
        }

        let waiting = pending
        if !waiting.isEmpty {
            pending.removeAll()
            setPendingBytes(0)
            for batch in waiting { admit(batch) }
        }
        for item in items {
            switch item {
            case .ingest(let batch):
                admit(batch)
            case .partialIngest:
                preconditionFailure("partial batches are made by the writer only")
            case .checkpoint, .deadLetters, .note, .maintainDeadLetters:
                segment.append(item)
            case .barrier(let revoked, let done):
                flush()
                dropPending(of: revoked)
                var answer: [TopicPartition: Int64] = [:]
                for tp in revoked {
                    if let offset = state.nextOffset(of: tp) { answer[tp] = offset }
                }
                done(answer)
            }
        }
        if !segment.isEmpty || trimBacklog || evictBacklog || backlogSkipDue() { flush() }
        endQuietEpisodes()

        let waitingForRoom = !pending.isEmpty
        if waitingForRoom && waiting.isEmpty {
            logger.warning(
                "spool reached spool.max_bytes; holding fetched records and pausing the source until sinks free room",
                metadata: [LogKey.spoolPath: "\(configuration.path)", LogKey.spoolBytes: "\(usedBytes)"])
        } else if !waitingForRoom && !waiting.isEmpty {
            logger.info("spool has room again", metadata: [LogKey.spoolBytes: "\(usedBytes)"])
        }
        published.update { $0.outOfSpace = $0.outOfSpace || waitingForRoom }
    }

    /// Payload bytes that still fit under max_bytes, allowing about half again for LMDB's pages.
    private func roomForPayload() -> Int {
        max(0, (configuration.maxBytes - usedBytes) * 2 / 3)
    }

    private func dropPending(of revoked: Set<TopicPartition>) {
        guard !pending.isEmpty, !revoked.isEmpty else { return }
        for batch in pending { batch.removeRecords(of: revoked) }
        pending.removeAll { $0.records.isEmpty }
        setPendingBytes(pending.reduce(0) { $0 + $1.byteCount })
    }

    /// Commits `segment` in one transaction. When out of space, the ingest batches wait in
    /// `pending` and the rest is committed alone (checkpoints and trims are what free space).
    private func commit(_ segment: [WriterItem]) {
        do {
            try commitTransaction(segment)
        } catch {
            let batches = segment.compactMap { item -> IngestBatch? in
                switch item {
                case .ingest(let batch), .partialIngest(let batch, _): return batch
                default: return nil
                }
            }
            let others = segment.filter {
                switch $0 {
                case .ingest, .partialIngest: return false
                default: return true
                }
            }
            if error.isOutOfSpace(onFilesystemOf: configuration.path) {
                if pending.isEmpty {
                    logger.warning(
                        "spool is out of space; holding fetched records and pausing the source until sinks free room",
                        metadata: [LogKey.spoolPath: "\(configuration.path)", LogKey.error: "\(error)"])
                }
            } else {
                statistics.spoolWriteErrors.add(1)
                logger.error(
                    "spool write failed; holding the records and retrying",
                    metadata: [LogKey.spoolPath: "\(configuration.path)", LogKey.error: "\(error)"])
            }
            pending.prepend(contentsOf: batches)
            addPendingBytes(batches.reduce(0) { $0 + $1.byteCount })
            published.update { $0.outOfSpace = true }
            guard !others.isEmpty else { return }
            do {
                try commitTransaction(others)
            } catch {
                logger.error("spool checkpoint write failed", metadata: [LogKey.error: "\(error)"])
                for item in others {
                    switch item {
                    case .checkpoint(_, _, _, let done), .deadLetters(_, let done), .note(_, _, let done): done(error)
                    case .maintainDeadLetters(_, _, _, let done): done(.failure(error))
                    default: break
                    }
                }
            }
        }
    }

    private func commitTransaction(_ segment: [WriterItem]) throws(SpoolError) {
        // Empty after a commit; after a failed one, what was appended is forgotten with it.
        defer { segments.reset() }
        var work = TransactionWork(state: state, deadLetterPayloadLimit: configuration.maxRecordBytes)
        let backlogBefore = (marks: backlog.marks.count, total: backlog.totalBytes)
        let usage: SpoolUsage = try rollingBackBacklogOnFailure { () throws(SpoolError) in try env.write { (txn) throws(SpoolError) -> SpoolUsage in
            for item in segment {
                switch item {
                case .ingest(let batch):
                    _ = try write(batch, byteLimit: nil, into: txn, work: &work)
                case .partialIngest(let batch, let limit):
                    work.partialConsumed = try write(batch, byteLimit: limit, into: txn, work: &work)
                case .checkpoint(let sink, var checkpoint, let letters, _):
                    // A skip (sinks.NAME.backlog) may have moved the cursor past what the sink
                    // delivered: a cursor never moves back, or the skipped records would be
                    // read again. The sink's own state is still the latest.
                    if let current = work.state.cursors[sink], current.nextSequence > checkpoint.nextSequence {
                        checkpoint.nextSequence = current.nextSequence
                    }
                    var value = SpoolKey.uint64(checkpoint.nextSequence)
                    value.append(contentsOf: checkpoint.state)
                    try txn.put(db.cursors, key: Array(sink.utf8), value: value)
                    for letter in letters { try work.put(letter, into: txn, db: db) }
                    work.state.cursors[sink] = checkpoint
                case .deadLetters(let letters, _):
                    for letter in letters { try work.put(letter, into: txn, db: db) }
                case .note(let key, let value, _):
                    if let value { try txn.put(db.meta, key: key, value: value) } else { try txn.delete(db.meta, key: key) }
                case .maintainDeadLetters(let stage, let replayTo, let limit, _):
                    work.maintained.append(try maintainDeadLetters(stage: stage, replayTo: replayTo, limit: limit, txn: txn, work: &work))
                case .barrier:
                    break
                }
            }
            try segments.flush(into: txn, db.segments)
            if work.deadLettersAdded > 0 || evictBacklog { try evictDeadLetters(txn, work: &work) }
            try enforceBacklogLimits(txn, work: &work)
            try trim(txn, work: &work)
            try work.persistCounters(into: txn, db: db)
            if backlog.totalBytes != backlogBefore.total {
                try txn.put(db.meta, key: SpoolKey.backlogBytes, value: SpoolKey.uint64(backlog.totalBytes))
            }
            return try measure(txn, state: work.state)
        } }
        if work.firstSequenceMoved { _ = backlog.dropMarks(before: work.state.firstSequence) }
        // Durable from here on.
        state = work.state
        usedBytes = usage.usedBytes
        statistics.spooled.add(work.spooled)
        statistics.skippedEmpty.add(work.skippedEmpty)
        statistics.oversize.add(work.oversize)
        statistics.duplicatesSkipped.add(work.duplicates)
        statistics.spoolTransactions.add(1)
        statistics.spoolBytes.set(usage.usedBytes)
        statistics.spoolRecords.set(usage.records)
        statistics.spoolDeadLetterBytes.set(usage.deadLetterBytes)
        statistics.spoolDeadLettersTruncated.add(work.truncatedLetters)
        if work.evictedLetters > 0 { noteEvictions(work.evictedLetters, bytes: usage.deadLetterBytes) }
        for item in segment {
            if case .partialIngest(let batch, _) = item {
                batch.removeFirst(work.partialConsumed)
                if !batch.records.isEmpty {
                    pending.prepend(batch)
                    addPendingBytes(batch.byteCount)
                }
            }
        }
        let stillWaiting = !pending.isEmpty
        if !work.skips.isEmpty { noteSkips(work.skips) }
        let backlogs = measureBacklogs()
        published.update { shared in
            shared.apply(state, usage: usage, configuration: configuration)
            shared.backlogs = backlogs
            shared.outOfSpace = shared.outOfSpace || stillWaiting
        }
        if !work.changedOffsets.isEmpty {
            var offsets: [TopicPartition: Int64] = [:]
            for key in work.changedOffsets {
                offsets[TopicPartition(topic: state.topics[Int(key.topic)], partition: key.partition)] = state.offsets[key]
            }
            durableOffsets(offsets)
        }
        signal.publish(next: state.nextSequence)
        for item in segment {
            switch item {
            case .checkpoint(_, _, _, let done), .deadLetters(_, let done), .note(_, _, let done): done(nil)
            case .maintainDeadLetters(_, _, _, let done): done(.success(work.maintained.removeFirst()))
            default: break
            }
        }
    }

    /// Writes the batch's records (all of them, or while their payload stays under `byteLimit`,
    /// at least one) and returns how many records it went through.
    private func write(
        _ batch: IngestBatch, byteLimit: Int?, into txn: borrowing LMDBTransaction, work: inout TransactionWork
    ) throws(SpoolError) -> Int {
        // Map the batch's topic names to spool topic indexes once per batch, not per record.
        var topicMap: [UInt16] = []
        topicMap.reserveCapacity(batch.topics.count)
        for topic in batch.topics { topicMap.append(try work.topicIndex(for: topic, txn: txn, db: db)) }

        let maxRecordBytes = configuration.maxRecordBytes
        var lastKey: PartitionKey?
        var lastNext: Int64 = -1
        var consumed = 0
        var payload = 0
        let firstSequence = work.state.nextSequence
        var spooledBytes = 0
        for record in batch.records {
            if let byteLimit, consumed > 0, payload + record.valueCount > byteLimit { break }
            consumed += 1
            payload += record.valueCount
            let key = PartitionKey(topic: topicMap[record.topicIndex], partition: record.partition)
            if key != lastKey {
                if let lastKey { work.setNextOffset(lastNext, for: lastKey) }
                lastKey = key
                lastNext = work.state.offsets[key] ?? -1
            }
            if record.offset < lastNext {
                work.duplicates += 1
                continue
            }
            lastNext = record.offset + 1
            guard let value = record.value, value.count > 0 else {
                work.skippedEmpty += 1
                continue
            }
            if value.count > maxRecordBytes {
                work.oversize += 1
                // Only the prefix the store keeps is copied: the value may be many megabytes.
                try work.put(
                    DeadLetter(
                        stage: "source",
                        reason: "record value is \(value.count) bytes, over the \(maxRecordBytes)-byte limit (source.kafka.max_record_bytes)",
                        topic: batch.topics[record.topicIndex], partition: record.partition, offset: record.offset,
                        timestampMs: record.timestampMs, deadLetteredAtMs: Self.nowMillis(),
                        payload: Array(UnsafeRawBufferPointer(rebasing: value[..<maxRecordBytes])), originalSize: value.count),
                    into: txn, db: db)
                continue
            }
            let size = RecordCodec.encodedSize(keyCount: record.key?.count, valueCount: value.count, headersCount: record.headers?.count)
            let topicIndex = key.topic
            segments.append(sequence: work.state.nextSequence, size: size) { out in
                RecordCodec.encode(into: out, topicIndex: topicIndex, record: record)
            }
            if segments.isFull { try segments.flush(into: txn, db.segments) }
            work.state.nextSequence += 1
            work.spooled += 1
            spooledBytes += size
        }
        if let lastKey { work.setNextOffset(lastNext, for: lastKey) }
        if spooledBytes > 0 { try noteSpooled(from: firstSequence, bytes: spooledBytes, txn: txn) }
        return consumed
    }

    private func maintainDeadLetters(
        stage: String?, replayTo: Set<String>?, limit: Int, txn: borrowing LMDBTransaction, work: inout TransactionWork
    ) throws(SpoolError) -> DeadLetterMaintenance {
        var chosen: [(key: [UInt8], letter: DeadLetter)] = []
        var keptTruncated = 0
        try txn.scan(db.deadLetters, from: nil) { (key, value) throws(SpoolError) -> Bool in
            guard let letter = DeadLetter(decoding: value), stage == nil || letter.stage == stage else { return true }
            if let replayTo {
                guard replayTo.contains(letter.stage) else { return true }
                // Its payload is only a prefix: sent again, it would arrive as a different record.
                if letter.isTruncated {
                    keptTruncated += 1
                    return true
                }
            }
            chosen.append((Array(key), letter))
            return chosen.count < limit
        }
        for (key, letter) in chosen {
            try txn.delete(db.deadLetters, key: key)
            guard replayTo != nil else { continue }
            let topic = try work.topicIndex(for: letter.topic, txn: txn, db: db)
            let target = Array(letter.stage.utf8)
            let size = RecordCodec.encodedReplaySize(target: target, payloadCount: letter.payload.count)
            segments.append(sequence: work.state.nextSequence, size: size) { out in
                RecordCodec.encodeReplay(into: out, topicIndex: topic, letter: letter, target: target)
            }
            if segments.isFull { try segments.flush(into: txn, db.segments) }
            try noteSpooled(from: work.state.nextSequence, bytes: size, txn: txn)
            work.state.nextSequence += 1
        }
        return DeadLetterMaintenance(handled: chosen.count, keptTruncated: keptTruncated)
    }

    /// Deletes the oldest dead letters while the store is over its limit, keeping at least the
    /// newest one (a limit smaller than one letter still leaves the last thing that went wrong).
    /// Measured in pages, like `max_bytes`: deleting from the start empties whole leaf pages.
    private func evictDeadLetters(_ txn: borrowing LMDBTransaction, work: inout TransactionWork) throws(SpoolError) {
        let limit = configuration.deadLetterByteLimit
        var stat = try txn.stat(db.deadLetters)
        evictBacklog = false
        while stat.pages * env.pageSize > limit && stat.entries > 1 {
            // Bounded like trimming, so lowering the limit never makes one huge transaction.
            guard work.evictedLetters < Self.trimLimit else {
                evictBacklog = true
                return
            }
            work.evictedLetters += try txn.deleteFromStart(db.deadLetters, limit: 1) { _ in true }
            stat = try txn.stat(db.deadLetters)
        }
    }

    private func noteEvictions(_ count: Int, bytes: Int) {
        statistics.spoolDeadLettersEvicted.add(count)
        evictionsToLog += count
        let now = ContinuousClock.now
        if let last = evictionLogged, now - last < .seconds(60) { return }
        logger.warning(
            """
            dead-letter store reached spool.dead_letter_max_bytes (\(ByteSize.format(configuration.deadLetterByteLimit))); \
            deleted the oldest letters to make room for new ones: see them with logbridge dlq list, then replay or purge
            """,
            metadata: [LogKey.records: "\(evictionsToLog)", LogKey.deadLetterBytes: "\(bytes)"])
        evictionsToLog = 0
        evictionLogged = now
    }

    /// Deletes records every sink has delivered, a bounded number per transaction: format-2
    /// records one by one, segments once every sink has passed their last record.
    private func trim(_ txn: borrowing LMDBTransaction, work: inout TransactionWork) throws(SpoolError) {
        let minimum = work.state.minimumCursor
        var deleted = 0
        if log.legacyEnd > 0 {
            deleted += try txn.deleteFromStart(db.records, limit: Self.trimLimit) { key in
                SpoolKey.decodeSequence(key) < minimum
            }
        }
        // A segment stays until its last record is delivered everywhere; a damaged one (no
        // readable header) goes once every sink is past its first sequence.
        let deletedSegments = try txn.deleteFromStart(db.segments, limit: Self.segmentTrimLimit) { key, value in
            let first = SpoolKey.decodeSequence(key)
            return (SegmentCodec.end(first: first, count: SegmentCodec.header(value)?.count ?? 1) ?? .max) <= minimum
        }
        guard work.state.firstSequence < minimum || deleted > 0 || deletedSegments > 0 else {
            trimBacklog = false
            return
        }
        work.firstSequenceMoved = true
        if deleted < Self.trimLimit && deletedSegments < Self.segmentTrimLimit {
            work.state.firstSequence = max(work.state.firstSequence, minimum)
            trimBacklog = false
        } else {
            let first = try log.bounds(txn).first ?? minimum
            work.state.firstSequence = max(work.state.firstSequence, min(first, minimum))
            trimBacklog = true
        }
        try trimMarks(txn, before: work.state.firstSequence)
    }

    private func measure(_ txn: borrowing LMDBTransaction, state: SpoolState) throws(SpoolError) -> SpoolUsage {
        try Self.measure(txn, db: db, env: env, state: state, maxBytes: configuration.maxBytes)
    }

    /// Live pages (not the file size: LMDB reuses freed pages) of every tree, in bytes.
    static func measure(
        _ txn: borrowing LMDBTransaction, db: SpoolDatabases, env: LMDBEnvironment, state: SpoolState, maxBytes: Int
    ) throws(SpoolError) -> SpoolUsage {
        // FREE_DBI (0) and MAIN_DBI (1) are LMDB's own trees; 2 meta pages head the file.
        var pages = 2
        for dbi in [MDB_dbi(0), MDB_dbi(1)] + db.all { pages += try txn.stat(dbi).pages }
        let deadLetters = try txn.stat(db.deadLetters)
        return SpoolUsage(
            usedBytes: pages * env.pageSize, maxBytes: maxBytes,
            records: Int(state.nextSequence - min(state.firstSequence, state.nextSequence)), deadLetters: deadLetters.entries,
            deadLetterBytes: deadLetters.pages * env.pageSize,
            nextSequence: state.nextSequence, firstSequence: state.firstSequence)
    }

    private func setPendingBytes(_ n: Int) {
        condition.lock()
        pendingBytes = n
        condition.broadcast()
        condition.unlock()
    }

    private func addPendingBytes(_ n: Int) {
        condition.lock()
        pendingBytes += n
        condition.unlock()
    }

    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// What one transaction changes, applied to the writer's state only once the commit succeeded.
struct TransactionWork {
    var state: SpoolState
    var changedOffsets: Set<PartitionKey> = []
    var spooled = 0
    var skippedEmpty = 0
    var oversize = 0
    var duplicates = 0
    /// Records of the transaction's partial batch that were written.
    var partialConsumed = 0
    /// Dead letters replayed or purged, per maintenance item, in order.
    var maintained: Deque<DeadLetterMaintenance> = []
    var deadLettersAdded = 0
    var truncatedLetters = 0
    var evictedLetters = 0
    /// Sinks whose cursor a backlog limit moved forward in this transaction.
    var skips: [SkipMove] = []
    var firstSequenceMoved = false
    /// Payload bytes a dead letter keeps: max_record_bytes, so a letter is never larger than a
    /// spooled record, and one a sink refused is whole (it was spooled under the same limit,
    /// unless the limit was lowered since).
    private let deadLetterPayloadLimit: Int
    private let initialNextSequence: UInt64
    private let initialNextDeadLetter: UInt64

    init(state: SpoolState, deadLetterPayloadLimit: Int) {
        self.state = state
        self.deadLetterPayloadLimit = deadLetterPayloadLimit
        initialNextSequence = state.nextSequence
        initialNextDeadLetter = state.nextDeadLetter
    }

    mutating func setNextOffset(_ next: Int64, for key: PartitionKey) {
        guard next >= 0, state.offsets[key] != next else { return }
        state.offsets[key] = next
        changedOffsets.insert(key)
    }

    /// The topic's index in the spool's topic table, adding it if new.
    /// - Throws: ``SpoolError/topicTableFull(topic:limit:)`` once the 16-bit index space is used
    ///   up (a `^regex` subscription can reach more topics than the file lists); the batch then
    ///   waits in `pending` like any failed write instead of trapping on the conversion.
    mutating func topicIndex(for topic: String, txn: borrowing LMDBTransaction, db: SpoolDatabases) throws(SpoolError) -> UInt16 {
        if let index = state.topicIndexes[topic] { return index }
        guard state.topics.count < SpoolConfiguration.maxTopics, let index = UInt16(exactly: state.topics.count) else {
            throw .topicTableFull(topic: topic, limit: SpoolConfiguration.maxTopics)
        }
        var key = SpoolKey.topicPrefix
        key.append(contentsOf: topic.utf8)
        try txn.put(db.meta, key: key, value: withUnsafeBytes(of: index.littleEndian) { Array($0) })
        state.topics.append(topic)
        state.topicIndexes[topic] = index
        return index
    }

    /// Stores a dead letter, capped: every producer (sinks, oversize records, quarantine) comes
    /// through here, so none can store an unbounded payload or reason.
    mutating func put(_ letter: DeadLetter, into txn: borrowing LMDBTransaction, db: SpoolDatabases) throws(SpoolError) {
        let stored = letter.capped(maxPayloadBytes: deadLetterPayloadLimit)
        try txn.put(db.deadLetters, key: SpoolKey.sequence(state.nextDeadLetter), value: stored.encoded())
        state.nextDeadLetter += 1
        deadLettersAdded += 1
        if stored.isTruncated { truncatedLetters += 1 }
    }

    func persistCounters(into txn: borrowing LMDBTransaction, db: SpoolDatabases) throws(SpoolError) {
        if state.nextSequence != initialNextSequence {
            try put(SpoolKey.nextSequence, SpoolKey.uint64(state.nextSequence), db.meta, txn)
        }
        if state.nextDeadLetter != initialNextDeadLetter {
            try put(SpoolKey.nextDeadLetter, SpoolKey.uint64(state.nextDeadLetter), db.meta, txn)
        }
        for key in changedOffsets {
            let tp = TopicPartition(topic: state.topics[Int(key.topic)], partition: key.partition)
            try put(SpoolKey.offsetKey(tp), SpoolKey.uint64(UInt64(bitPattern: state.offsets[key]!)), db.offsets, txn)
        }
    }

    private func put(_ key: [UInt8], _ value: [UInt8], _ dbi: MDB_dbi, _ txn: borrowing LMDBTransaction) throws(SpoolError) {
        try txn.put(dbi, key: key, value: value)
    }
}
