import CLMDB
import Foundation
import LogBridgeCore
import Logging
import Synchronization

/// The durable spool between Kafka and the sinks, in LMDB.
///
/// Every record fetched from Kafka is written once, together with its partition's next offset, in
/// one write transaction; Kafka offsets are committed only after that transaction is durable. Each
/// sink reads the same ordered log through its own cursor, and a record is deleted once every
/// sink's cursor has passed it.
///
/// - Important: one process at a time: `open` takes an exclusive lock on the spool directory.
public final class Spool: Sendable {
    public let configuration: SpoolConfiguration
    private let env: LMDBEnvironment
    private let db: SpoolDatabases
    private let log: SpoolLogReader
    private let writer: SpoolWriter
    private let published: Published
    private let signal: SequenceSignal
    private let lock: SpoolDirectoryLock
    private let logger: Logger
    private let statistics: SpoolStatistics
    private let durableOffsetsHandler = DurableOffsetsHandler()
    private let backlogLimits = BacklogLimits()
    private let closed = Atomic<Bool>(false)
    /// The average stored size of the records the latest read returned, to size the next read's
    /// buffers once: grown by doubling, a 2,000-record batch copied its bytes about twice over
    /// into fresh pages.
    private let recentRecordBytes = Atomic<Int>(0)

    /// Opens or creates the spool and starts its writer thread.
    /// - Parameters:
    ///   - sinks: the configured sink names. A new sink starts at the oldest spooled record; the
    ///     cursor of a sink no longer configured is removed so it stops holding records back.
    /// - Throws: ``SpoolError`` when the directory cannot be created or locked, or LMDB fails.
    public init(
        configuration: SpoolConfiguration, sinks: [String], statistics: SpoolStatistics, logger: Logger
    ) throws(SpoolError) {
        self.configuration = configuration
        self.logger = logger
        self.statistics = statistics
        try Self.createDirectory(configuration.path, logger: logger)
        lock = try SpoolDirectoryLock(directory: configuration.path)
        // The map reserves room beyond max_bytes: ingest stops at max_bytes, and the reserve
        // guarantees that cursor commits and trims, which free space, can always be written.
        // `spool.max_bytes` is range-checked at load; a caller building the configuration itself
        // gets a saturated map size, which LMDB refuses with an error, rather than a trap.
        let reserve = max(configuration.maxBytes / 20, 16 << 20)
        let (mapSize, overflow) = configuration.maxBytes.addingReportingOverflow(reserve)
        env = try LMDBEnvironment(
            directory: configuration.path, mapSize: overflow ? .max : mapSize, maxDatabases: SpoolDatabases.count + 2)
        let opened = try Self.load(env: env, path: configuration.path, sinks: sinks, logger: logger)
        db = opened.db
        log = SpoolLogReader(db: opened.db, legacyEnd: opened.legacyEnd, cache: SegmentCache())
        let state = opened.state
        let env = self.env
        let usage = try env.read { (txn) throws(SpoolError) -> SpoolUsage in
            try SpoolWriter.measure(txn, db: opened.db, env: env, state: state, maxBytes: configuration.maxBytes)
        }
        var initial = PublishedState(usage: usage)
        initial.apply(state, usage: usage, configuration: configuration)
        published = Published(initial)
        signal = SequenceSignal(next: state.nextSequence)
        statistics.spoolBytes.set(usage.usedBytes)
        statistics.spoolRecords.set(usage.records)
        statistics.spoolMaxBytes.set(configuration.maxBytes)
        statistics.spoolDeadLetterBytes.set(usage.deadLetterBytes)
        statistics.spoolDeadLetterMaxBytes.set(configuration.deadLetterByteLimit)
        let handler = durableOffsetsHandler
        writer = SpoolWriter(
            env: env, db: db, log: log, state: state, configuration: configuration, statistics: statistics,
            published: published, signal: signal, logger: logger,
            backlog: opened.backlog, backlogLimits: backlogLimits,
            durableOffsets: { offsets in handler.call(offsets) })
        writer.start()
        registerCollector()
        logger.info(
            "spool opened",
            metadata: [
                LogKey.spoolPath: "\(configuration.path)", LogKey.records: "\(usage.records)",
                LogKey.spoolBytes: "\(usage.usedBytes)",
            ])
    }

    // MARK: Source side

    /// Called on the writer thread after each commit with the next offsets that just became durable.
    /// The Kafka source stores them for its next offset commit.
    public func onDurableOffsets(_ handler: @escaping @Sendable ([TopicPartition: Int64]) -> Void) {
        durableOffsetsHandler.set(handler)
    }

    /// Queues a fetched batch for the writer; waits up to `timeout` for room.
    /// - Returns: false when there was no room: the caller keeps the batch and pauses its source.
    public func offer(_ batch: IngestBatch, timeout: Duration) -> Bool {
        writer.offer(batch, timeout: timeout)
    }

    /// Whether the source should pause: above the high watermark (until under the low one), or a
    /// write failed for lack of space.
    public var wantsSourcePaused: Bool {
        published.read { $0.pausedForSpace || $0.outOfSpace }
    }

    /// Whether fetched records can be written now: false while they wait for room (max_bytes, a
    /// full disk or map) or a write is failing. `/readyz` reports it.
    public var isWritable: Bool { !published.read { $0.outOfSpace } }

    /// The next offset to spool for each partition the spool has seen.
    public func nextOffsets(for partitions: [TopicPartition]) -> [TopicPartition: Int64] {
        published.read { state in
            var result: [TopicPartition: Int64] = [:]
            for tp in partitions { if let offset = state.offsets[tp] { result[tp] = offset } }
            return result
        }
    }

    /// Commits everything queued before this call (records of `partitions` that cannot be written
    /// for lack of space are dropped: they were never acknowledged to Kafka) and returns the
    /// partitions' next offsets. Blocks the calling thread; called from the Kafka rebalance callback.
    public func finishWrites(revoking partitions: Set<TopicPartition>) -> [TopicPartition: Int64] {
        guard !closed.load(ordering: .acquiring) else { return nextOffsets(for: Array(partitions)) }
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<[TopicPartition: Int64]>([:])
        writer.enqueue(.barrier(revoked: partitions, done: { offsets in
            answer.withLock { $0 = offsets }
            done.signal()
        }))
        done.wait()
        return answer.withLock { $0 }
    }

    // MARK: Sink isolation

    /// Sets each sink's backlog limit and policy (`sinks.NAME.backlog`); a sink not listed blocks.
    /// Applied from the writer's next transaction (at the latest within a second).
    public func setBacklogLimits(_ limits: [String: SinkBacklogLimit]) {
        backlogLimits.set(limits)
    }

    // MARK: Metrics

    /// Refreshes the spool's derived gauges before each `/metrics` scrape.
    private func registerCollector() {
        let oldestAge = statistics.oldestRecordAge
        statistics.addCollector("spool") { [weak self] in
            guard let self, !self.closed.load(ordering: .acquiring) else { return }
            let state = self.published.read { ($0.usage, $0.pausedForSpace || $0.outOfSpace, $0.cursors) }
            self.statistics.spoolFull.set(state.1 ? 1 : 0)
            self.statistics.spoolDeadLetters.set(state.0.deadLetters)
            let backlogs = self.published.read { $0.backlogs }
            let nowMs = SpoolWriter.nowMillis()
            for (sink, cursor) in state.2 {
                let counters = self.statistics.sink(sink)
                counters.backlog.set(Int(state.0.nextSequence &- min(cursor.nextSequence, state.0.nextSequence)))
                let backlog = backlogs[sink]
                counters.backlogBytes.set(Int(clamping: backlog?.bytes ?? 0))
                counters.backlogAgeSeconds.set(backlog?.oldestSpooledAtMs.map { Int(max(0, nowMs - $0) / 1000) } ?? 0)
            }
            let oldest = state.2.values.map(\.nextSequence).min() ?? state.0.nextSequence
            var age = 0.0
            if oldest < state.0.nextSequence, let first = try? self.read(from: oldest, maxRecords: 1, maxBytes: 1).records.first,
                first.timestampMs > 0
            {
                age = max(0, Date().timeIntervalSince1970 - Double(first.timestampMs) / 1000)
            }
            oldestAge.set(age)
        }
    }

    // MARK: Sink side

    /// A sink's durable position.
    public func checkpoint(sink: String) -> SinkCheckpoint {
        published.read { $0.cursors[sink] } ?? SinkCheckpoint(nextSequence: usage.firstSequence)
    }

    /// Reads up to `maxRecords` records (and about `maxBytes` payload bytes) starting at `sequence`,
    /// copied out of the map so no read transaction outlives the call. Blocking: call it from a
    /// dedicated thread.
    /// - Parameter sink: the reading sink; records replayed for another sink are skipped.
    public func read(from sequence: UInt64, maxRecords: Int, maxBytes: Int, for sink: String? = nil) throws(SpoolError) -> RecordBatch {
        try readCountingGap(from: sequence, maxRecords: maxRecords, maxBytes: maxBytes, for: sink).batch
    }

    /// ``read(from:maxRecords:maxBytes:for:)``, also saying how many sequence numbers from
    /// `sequence` on were no longer in the spool. Sequence numbers have no holes, and a sink reads
    /// from past what it has delivered, so that gap is records trimmed after a skip moved the
    /// sink's cursor (`sinks.NAME.backlog`) since the sink last looked: the sink counts them as
    /// skipped.
    public func readCountingGap(
        from sequence: UInt64, maxRecords: Int, maxBytes: Int, for sink: String? = nil
    ) throws(SpoolError) -> (batch: RecordBatch, gap: UInt64) {
        var gap: UInt64 = 0
        var first = true
        let sinkName = sink.map { Array($0.utf8) }
        let topics = published.read { $0.topics }
        var batch = RecordBatch(topics: topics, nextSequence: sequence)
        let average = recentRecordBytes.load(ordering: .relaxed)
        if average > 0 {
            // Capped, so an unusual batch (or maxBytes: .max) does not reserve a large buffer.
            let records = min(maxRecords, 1 << 16)
            batch.records.reserveCapacity(records)
            batch.bytes.reserveCapacity(min(maxBytes, records * average, 16 << 20))
        }
        var corrupt: [DeadLetter] = []
        var touched = TouchedPages()
        defer { touched.release() }
        let log = self.log
        // Records before the first sequence are delivered everywhere (or skipped), though the
        // segment holding the first one may still store them.
        let from = max(sequence, published.read { $0.usage.firstSequence })
        try env.read { (txn) throws(SpoolError) in
            // The end of the log in this snapshot: where a damaged last segment ends.
            let snapshotNext = try txn.get(db.meta, key: SpoolKey.nextSequence).flatMap { bytes in
                bytes.withUnsafeBytes { SpoolKey.decodeUInt64($0) }
            } ?? from
            try log.visit(txn, from: from, mapped: { touched.include($0) }) { (item) throws(SpoolError) -> Bool in
                switch item {
                case .corrupt(let seq, let end, let stored):
                    first = false
                    corrupt.append(DeadLetter(
                        stage: "spool", reason: "corrupt segment in the spool at sequence \(seq)", topic: "",
                        partition: -1, offset: -1, timestampMs: -1,
                        deadLetteredAtMs: SpoolWriter.nowMillis(), payload: Array(stored)))
                    batch.nextSequence = max(batch.nextSequence, end ?? snapshotNext)
                    return corrupt.count < maxRecords
                case .record(let seq, let value):
                    if first {
                        first = false
                        if seq > sequence { gap = seq - sequence }
                    }
                    guard let decoded = RecordCodec.decode(value), decoded.topicIndex < topics.count else {
                        corrupt.append(DeadLetter(
                            stage: "spool", reason: "corrupt record in the spool at sequence \(seq)", topic: "",
                            partition: -1, offset: -1, timestampMs: -1,
                            deadLetteredAtMs: SpoolWriter.nowMillis(), payload: Array(value)))
                        batch.nextSequence = seq + 1
                        return corrupt.count < maxRecords
                    }
                    if let target = decoded.target, let sinkName, !value[target].elementsEqual(sinkName) {
                        batch.nextSequence = seq + 1
                        return true
                    }
                    let base = batch.bytes.count
                    batch.bytes.append(contentsOf: value)
                    batch.records.append(RecordBatch.Record(
                        sequence: seq, topicIndex: decoded.topicIndex, partition: decoded.partition,
                        offset: decoded.offset, timestampMs: decoded.timestampMs,
                        key: decoded.key.map { (base + $0.lowerBound)..<(base + $0.upperBound) },
                        value: (base + decoded.value.lowerBound)..<(base + decoded.value.upperBound),
                        headers: decoded.headers.map { (base + $0.lowerBound)..<(base + $0.upperBound) }))
                    batch.nextSequence = seq + 1
                    return batch.records.count < maxRecords && batch.bytes.count < maxBytes
                }
            }
        }
        if !batch.records.isEmpty {
            recentRecordBytes.store(batch.bytes.count / batch.records.count + 1, ordering: .relaxed)
        }
        if !corrupt.isEmpty {
            statistics.spoolQuarantined.add(corrupt.count)
            logger.error("quarantined corrupt spool records to the dead-letter store", metadata: [LogKey.records: "\(corrupt.count)"])
            writer.enqueue(.deadLetters(corrupt, done: { _ in }))
        }
        return (batch, gap)
    }

    /// Durably moves a sink's cursor (and its state) forward; records every sink has passed are then
    /// deleted.
    /// - Parameter deadLetters: records the sink rejected for good, stored in the same transaction.
    public func commit(sink: String, checkpoint: SinkCheckpoint, deadLetters: [DeadLetter] = []) async throws(SpoolError) {
        let error: SpoolError? = await withCheckedContinuation { continuation in
            writer.enqueue(.checkpoint(sink: sink, checkpoint, deadLetters: deadLetters, done: { continuation.resume(returning: $0) }))
        }
        if let error { throw error }
    }

    /// Sets records aside in the dead-letter store.
    public func deadLetter(_ letters: [DeadLetter]) async throws(SpoolError) {
        let error: SpoolError? = await withCheckedContinuation { continuation in
            writer.enqueue(.deadLetters(letters, done: { continuation.resume(returning: $0) }))
        }
        if let error { throw error }
    }

    /// Puts dead letters back into the log, each for the sink that rejected it only, removing them
    /// from the dead-letter store in the same transaction (`logbridge dlq replay`). Letters of other
    /// stages (`source`, `spool`) stay: replaying them would fail the same way. Truncated letters
    /// stay too: their payload is only the record's first bytes, and sending it would deliver a
    /// different record as if it were the original.
    /// - Parameters:
    ///   - sink: only this sink's letters; nil for every sink in `sinks`.
    ///   - sinks: the sinks the gateway feeds.
    /// - Returns: how many were replayed (`handled`), and how many truncated ones were kept.
    public func replayDeadLetters(sink: String?, sinks: Set<String>, limit: Int = .max) async throws(SpoolError) -> DeadLetterMaintenance {
        let targets = sink.map { sinks.contains($0) ? [$0] : [] } ?? sinks
        return try await maintainDeadLetters(stage: sink, replayTo: targets, limit: limit)
    }

    /// Deletes dead letters for good (`logbridge dlq purge`), only `stage`'s when given.
    /// - Returns: how many were deleted.
    public func purgeDeadLetters(stage: String?, limit: Int = .max) async throws(SpoolError) -> Int {
        try await maintainDeadLetters(stage: stage, replayTo: nil, limit: limit).handled
    }

    private func maintainDeadLetters(stage: String?, replayTo: Set<String>?, limit: Int) async throws(SpoolError) -> DeadLetterMaintenance {
        let result: Result<DeadLetterMaintenance, SpoolError> = await withCheckedContinuation { continuation in
            writer.enqueue(.maintainDeadLetters(stage: stage, replayTo: replayTo, limit: limit, done: { continuation.resume(returning: $0) }))
        }
        return try result.get()
    }

    /// Durably stores (or, with nil, deletes) a sink's own note, such as the Splunk HEC channels and
    /// the acknowledgements it still waits for, so a restarted gateway picks up where it stopped.
    public func saveNote(sink: String, name: String, value: [UInt8]?) async throws(SpoolError) {
        let key = SpoolKey.note(sink: sink, name: name)
        let error: SpoolError? = await withCheckedContinuation { continuation in
            writer.enqueue(.note(key: key, value: value, done: { continuation.resume(returning: $0) }))
        }
        if let error { throw error }
    }

    /// A note saved with ``saveNote(sink:name:value:)``, or nil.
    public func note(sink: String, name: String) throws(SpoolError) -> [UInt8]? {
        let key = SpoolKey.note(sink: sink, name: name)
        return try env.read { (txn) throws(SpoolError) in try txn.get(db.meta, key: key) }
    }

    /// Returns once a record with sequence >= `sequence` is committed, the spool closes, or the
    /// task is cancelled.
    public func waitForRecords(from sequence: UInt64) async {
        await signal.wait(forSequence: sequence)
    }

    /// The sequence number the next spooled record will get.
    public var nextSequence: UInt64 { signal.next }

    public var usage: SpoolUsage { published.read { $0.usage } }

    /// Reads up to `limit` dead letters, oldest first.
    public func deadLetters(limit: Int) throws(SpoolError) -> [DeadLetter] {
        try env.read { (txn) throws(SpoolError) in try DeadLetter.scan(txn, db.deadLetters, stage: nil, limit: limit) }
    }

    /// Commits what is queued, stops the writer and releases the directory lock. Idempotent.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writer.stop()
        signal.close()
        lock.release()
        logger.info("spool closed", metadata: [LogKey.spoolPath: "\(configuration.path)"])
    }

    deinit { close() }

    // MARK: Opening

    /// Creates the spool directory with mode 0750 at most (the umask may take more away): the
    /// records in it may hold secrets, and only the service's group (the `logbridge status` and
    /// `spool stats` operators) has any business there. Parents are created with the usual mode.
    /// An existing directory is left as it is (the operator chose its mode), with a warning when
    /// other users can enter it.
    static func createDirectory(_ path: String, logger: Logger) throws(SpoolError) {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            if info.st_mode & 0o007 != 0 {
                logger.warning(
                    "the spool directory is open to other users; the records in it may hold secrets: chmod o-rwx it",
                    metadata: [LogKey.spoolPath: "\(path)", "mode": "\(String(info.st_mode & 0o7777, radix: 8))"])
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, !FileManager.default.fileExists(atPath: parent) {
            do {
                try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
            } catch {
                let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
                throw .cannotCreateDirectory(path: parent, errno: Int32(underlying?.code ?? Int(EACCES)))
            }
        }
        if mkdir(path, 0o750) != 0, errno != EEXIST {
            throw .cannotCreateDirectory(path: path, errno: errno)
        }
    }

    private static func load(
        env: LMDBEnvironment, path: String, sinks: [String], logger: Logger
    ) throws(SpoolError) -> (db: SpoolDatabases, state: SpoolState, backlog: BacklogIndex, legacyEnd: UInt64) {
        try env.write { (txn) throws(SpoolError) in
            let db = SpoolDatabases(
                records: try txn.openDatabase("records", create: true),
                offsets: try txn.openDatabase("offsets", create: true),
                cursors: try txn.openDatabase("cursors", create: true),
                deadLetters: try txn.openDatabase("dead_letters", create: true),
                meta: try txn.openDatabase("meta", create: true),
                marks: try txn.openDatabase("marks", create: true),
                segments: try txn.openDatabase("segments", create: true))
            var found: String?
            var current = false
            if let stored = try txn.get(db.meta, key: SpoolKey.format) {
                let version = String(decoding: stored, as: UTF8.self)
                if version == SpoolDatabases.formatVersion {
                    current = true
                } else if SpoolDatabases.upgradableVersions.contains(version) {
                    found = version
                } else {
                    throw .incompatibleFormat(path: path, found: version)
                }
            }
            if !current {
                try txn.put(db.meta, key: SpoolKey.format, value: Array(SpoolDatabases.formatVersion.utf8))
            }
            var state = SpoolState()
            try txn.scan(db.meta, from: nil) { (key, value) throws(SpoolError) -> Bool in
                if key.elementsEqual(SpoolKey.nextSequence) {
                    state.nextSequence = SpoolKey.decodeUInt64(value) ?? 0
                } else if key.elementsEqual(SpoolKey.nextDeadLetter) {
                    state.nextDeadLetter = SpoolKey.decodeUInt64(value) ?? 0
                } else if key.starts(with: SpoolKey.topicPrefix), value.count == 2 {
                    let name = String(decoding: key.dropFirst(SpoolKey.topicPrefix.count), as: UTF8.self)
                    let index = UInt16(littleEndian: value.loadUnaligned(as: UInt16.self))
                    state.topicIndexes[name] = index
                }
                return true
            }
            state.topics = Array(repeating: "", count: state.topicIndexes.count)
            for (name, index) in state.topicIndexes where Int(index) < state.topics.count { state.topics[Int(index)] = name }
            // Format 2 and before stored one record per entry in `records`: they stay there and
            // are read from there until delivered (SpoolLogReader); new records go to segments.
            var legacyEnd = try txn.get(db.meta, key: SpoolKey.legacyEnd).flatMap { bytes in
                bytes.withUnsafeBytes { SpoolKey.decodeUInt64($0) }
            } ?? 0
            if found != nil, let last = try txn.lastKey(db.records) {
                legacyEnd = max(legacyEnd, last.withUnsafeBytes { SpoolKey.decodeSequence($0) } + 1)
                try txn.put(db.meta, key: SpoolKey.legacyEnd, value: SpoolKey.uint64(legacyEnd))
            }
            // The records themselves are the authority on sequence numbers.
            let bounds = try SpoolLogReader(db: db, legacyEnd: legacyEnd, cache: SegmentCache()).bounds(txn)
            if let next = bounds.next { state.nextSequence = max(state.nextSequence, next) }
            state.firstSequence = bounds.first ?? state.nextSequence
            try txn.scan(db.offsets, from: nil) { (key, value) throws(SpoolError) -> Bool in
                if let tp = SpoolKey.decodeOffsetKey(key), let index = state.topicIndexes[tp.topic],
                    let next = SpoolKey.decodeUInt64(value)
                {
                    state.offsets[PartitionKey(topic: index, partition: tp.partition)] = Int64(bitPattern: next)
                }
                return true
            }
            var stored: [String: SinkCheckpoint] = [:]
            try txn.scan(db.cursors, from: nil) { (key, value) throws(SpoolError) -> Bool in
                if let next = SpoolKey.decodeUInt64(value) {
                    stored[String(decoding: key, as: UTF8.self)] = SinkCheckpoint(
                        nextSequence: next, state: Array(value.dropFirst(8)))
                }
                return true
            }
            for (name, _) in stored where !sinks.contains(name) {
                logger.warning(
                    "removing the spool cursor of a sink that is no longer configured",
                    metadata: [LogKey.sink: "\(name)"])
                try txn.delete(db.cursors, key: Array(name.utf8))
            }
            // A segment stays until every sink has passed all of its records, so the first stored
            // sequence may be one every sink has delivered: a new sink starts where the slowest
            // existing one is, as it did when records were trimmed one by one.
            let slowest = stored.filter { sinks.contains($0.key) }.values.map(\.nextSequence).min()
            if let slowest, slowest > state.firstSequence { state.firstSequence = min(slowest, state.nextSequence) }
            for name in sinks {
                if let checkpoint = stored[name] {
                    state.cursors[name] = checkpoint
                } else {
                    let checkpoint = SinkCheckpoint(nextSequence: state.firstSequence)
                    state.cursors[name] = checkpoint
                    try txn.put(db.cursors, key: Array(name.utf8), value: SpoolKey.uint64(checkpoint.nextSequence))
                }
            }
            let backlog = found == "1"
                ? try Self.upgradeMarks(
                    txn, log: SpoolLogReader(db: db, legacyEnd: legacyEnd, cache: SegmentCache()), path: path, logger: logger)
                : try Self.loadMarks(txn, db: db)
            if let found {
                logger.notice(
                    """
                    upgraded the spool from format \(found) to \(SpoolDatabases.formatVersion) (compressed segments); \
                    the records already spooled are read as they were stored until delivered; nothing was lost
                    """,
                    metadata: [
                        LogKey.spoolPath: "\(path)",
                        LogKey.records: "\(legacyEnd > state.firstSequence ? legacyEnd - state.firstSequence : 0)",
                    ])
            }
            return (db, state, backlog, legacyEnd)
        }
    }

    private static func loadMarks(_ txn: borrowing LMDBTransaction, db: SpoolDatabases) throws(SpoolError) -> BacklogIndex {
        var marks: [BacklogMark] = []
        try txn.scan(db.marks, from: nil) { (key, value) throws(SpoolError) -> Bool in
            if let mark = SpoolKey.decodeMark(key: key, value: value) { marks.append(mark) }
            return true
        }
        let total = try txn.get(db.meta, key: SpoolKey.backlogBytes).flatMap { bytes in
            bytes.withUnsafeBytes { SpoolKey.decodeUInt64($0) }
        }
        return BacklogIndex(marks: marks, totalBytes: total ?? marks.last?.bytesBefore ?? 0)
    }

    /// Format 1 had no marks: one pass over the records left builds them, all dated now (their
    /// spool times were not kept), so an age limit counts from the upgrade and never skips more
    /// than it would have.
    private static func upgradeMarks(
        _ txn: borrowing LMDBTransaction, log: SpoolLogReader, path: String, logger: Logger
    ) throws(SpoolError) -> BacklogIndex {
        let db = log.db
        var index = BacklogIndex()
        let now = SpoolWriter.nowMillis()
        var records = 0
        try log.visit(txn, from: 0) { (item) throws(SpoolError) -> Bool in
            if case .record(let sequence, let bytes) = item {
                _ = index.note(sequence: sequence, bytes: UInt64(bytes.count), nowMs: now)
                records += 1
            }
            return true
        }
        for mark in index.marks {
            try txn.put(db.marks, key: SpoolKey.sequence(mark.sequence), value: SpoolKey.markValue(mark))
        }
        try txn.put(db.meta, key: SpoolKey.backlogBytes, value: SpoolKey.uint64(index.totalBytes))
        logger.notice(
            "upgraded the spool's backlog measurement from format 1 (per-sink backlog marks); nothing was lost",
            metadata: [LogKey.spoolPath: "\(path)", LogKey.records: "\(records)"])
        return index
    }
}

/// An exclusive `flock` on `DIR/logbridge.lock`, so two processes never share a spool.
final class SpoolDirectoryLock: Sendable {
    private let descriptor: Int32

    init(directory: String) throws(SpoolError) {
        let path = directory + "/logbridge.lock"
        let fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .cannotCreateDirectory(path: path, errno: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            Foundation.close(fd)
            throw .lockedByAnotherProcess(path: directory)
        }
        descriptor = fd
    }

    func release() {
        flock(descriptor, LOCK_UN)
        Foundation.close(descriptor)
    }
}

/// The Kafka source's callback for newly durable offsets, set after the spool is opened.
final class DurableOffsetsHandler: Sendable {
    private let handler = Mutex<(@Sendable ([TopicPartition: Int64]) -> Void)?>(nil)

    func set(_ body: @escaping @Sendable ([TopicPartition: Int64]) -> Void) { handler.withLock { $0 = body } }

    func call(_ offsets: [TopicPartition: Int64]) { handler.withLock { $0 }?(offsets) }
}

extension Spool {
    /// LMDB's version, e.g. `0.9.24`.
    public static var lmdbVersion: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        _ = mdb_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}

/// The span of the memory map a read went through.
///
/// Pages of LMDB's read-only map that a sink has copied records out of count as this process's
/// resident memory until the kernel reclaims them, so a lagging sink reading through a large backlog
/// would look like a memory leak. Once the records are copied, the span is released with
/// `MADV_DONTNEED`: the data stays in the page cache (and in the file), only the mapping is dropped.
struct TouchedPages {
    private var low = UInt.max
    private var high = UInt.min

    mutating func include(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let start = UInt(bitPattern: base)
        low = min(low, start)
        high = max(high, start + UInt(bytes.count))
    }

    func release() {
        guard low < high else { return }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        // Whole pages strictly inside the span; the edges may hold records not read yet.
        let start = (low + page - 1) / page * page
        let end = high / page * page
        guard start < end, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, Int(end - start), MADV_DONTNEED)
    }
}

extension Spool {
    /// The format version stored in the spool (tests of the upgrade).
    func _formatVersion() throws(SpoolError) -> String? {
        try env.read { (txn) throws(SpoolError) in
            try txn.get(db.meta, key: SpoolKey.format).map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
