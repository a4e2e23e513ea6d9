import LogBridgeCore
import Logging

/// One sink's cursor moved past its oldest records by a backlog limit, in a transaction.
struct SkipMove {
    var sink: String
    var from: UInt64
    var to: UInt64
    var reason: SkipReason
    /// The first and last record skipped, where they came from (for the log).
    var first: String?
    var last: String?
    /// When the first and last record skipped were spooled (Unix ms, to about a second).
    var spooledFromMs: Int64?
    var spooledToMs: Int64?
}

/// A run of skips for one sink, logged when it starts and when it ends.
struct SkipEpisode {
    var started: ContinuousClock.Instant
    var lastSkip: ContinuousClock.Instant
    var from: UInt64
    var to: UInt64
    var sequences: UInt64
    var skips: Int
    var reasons: Set<String>
    var first: String?
    var last: String?
    var spooledFromMs: Int64?
    var spooledToMs: Int64?
}

/// Sink isolation (`sinks.NAME.backlog`): byte totals along the log, and moving the cursor of a
/// `skip_oldest` sink past its oldest records, in the same transaction as the rest of the writer's
/// work, so a crash leaves either the old cursor or the new one and never a half-skipped sink.
extension SpoolWriter {
    /// Notes `bytes` of records written from `sequence` on in the backlog index, storing a new
    /// mark in the same transaction.
    func noteSpooled(from sequence: UInt64, bytes: Int, txn: borrowing LMDBTransaction) throws(SpoolError) {
        if let mark = backlog.note(sequence: sequence, bytes: UInt64(bytes), nowMs: Self.nowMillis()) {
            try txn.put(db.marks, key: SpoolKey.sequence(mark.sequence), value: SpoolKey.markValue(mark))
        }
    }

    /// Runs a write transaction; if it fails, the backlog index forgets what the transaction
    /// noted, so memory and LMDB keep agreeing.
    func rollingBackBacklogOnFailure<T>(_ body: () throws(SpoolError) -> T) throws(SpoolError) -> T {
        let (marks, total) = (backlog.marks.count, backlog.totalBytes)
        do {
            return try body()
        } catch {
            backlog.rollBack(markCount: marks, totalBytes: total)
            throw error
        }
    }

    /// Deletes stored marks wholly before `first`, keeping the one that covers it (the in-memory
    /// index drops them once the transaction is durable).
    func trimMarks(_ txn: borrowing LMDBTransaction, before first: UInt64) throws(SpoolError) {
        guard let index = backlog.span(containing: first), index > 0 else { return }
        let keep = backlog.marks[index].sequence
        _ = try txn.deleteFromStart(db.marks, limit: Self.trimLimit) { key in SpoolKey.decodeSequence(key) < keep }
    }

    /// Moves each `skip_oldest` sink that is over its limit forward, only as far as needed; a
    /// `block` sink's cursor is never touched, and a spool-full skip never passes a blocking sink.
    func enforceBacklogLimits(_ txn: borrowing LMDBTransaction, work: inout TransactionWork) throws(SpoolError) {
        let limits = backlogLimits.current
        guard limits.values.contains(where: \.skips) else { return }
        let next = work.state.nextSequence
        let now = Self.nowMillis()
        var targets: [String: (sequence: UInt64, reason: SkipReason)] = [:]
        for (sink, checkpoint) in work.state.cursors {
            guard let limit = limits[sink], limit.skips else { continue }
            if let target = backlog.skipTarget(cursor: checkpoint.nextSequence, next: next, limit: limit, nowMs: now) {
                targets[sink] = target
            }
        }
        if let full = try spoolFullTarget(txn, work: work, limits: limits) {
            for (sink, checkpoint) in work.state.cursors where limits[sink]?.skips == true && checkpoint.nextSequence < full {
                if full > targets[sink]?.sequence ?? 0 { targets[sink] = (full, .spoolFull) }
            }
        }
        for (sink, target) in targets.sorted(by: { $0.key < $1.key }) {
            guard var checkpoint = work.state.cursors[sink], target.sequence > checkpoint.nextSequence else { continue }
            let from = checkpoint.nextSequence
            checkpoint.nextSequence = min(target.sequence, next)
            var value = SpoolKey.uint64(checkpoint.nextSequence)
            value.append(contentsOf: checkpoint.state)
            try txn.put(db.cursors, key: Array(sink.utf8), value: value)
            work.state.cursors[sink] = checkpoint
            work.skips.append(SkipMove(
                sink: sink, from: from, to: checkpoint.nextSequence, reason: target.reason,
                first: try describeRecord(txn, sequence: from, topics: work.state.topics),
                last: try describeRecord(txn, sequence: checkpoint.nextSequence - 1, topics: work.state.topics),
                spooledFromMs: backlog.spooledAtMs(from, next: next),
                spooledToMs: backlog.spooledAtMs(checkpoint.nextSequence - 1, next: next)))
        }
    }

    /// Where the oldest records must be trimmed to for the spool to get back to its low watermark,
    /// when it is paused for space and a `skip_oldest` sink is what holds it; capped at the
    /// slowest blocking sink. Nil when the spool is not full, a trim is still under way (its
    /// effect is not measured yet), or skipping would free nothing.
    private func spoolFullTarget(
        _ txn: borrowing LMDBTransaction, work: TransactionWork, limits: [String: SinkBacklogLimit]
    ) throws(SpoolError) -> UInt64? {
        guard !trimBacklog, published.read({ $0.pausedForSpace || $0.outOfSpace }) else { return nil }
        let low = Int(Double(configuration.maxBytes) * configuration.lowWatermark)
        guard usedBytes > low else { return nil }
        let (first, next) = (work.state.firstSequence, work.state.nextSequence)
        let live = backlog.backlogBytes(from: first, next: next)
        var pages = 0
        for tree in db.recordTrees { pages += try txn.stat(tree).pages * env.pageSize }
        guard live > 0, pages > 0 else { return nil }
        // Pages to free, in record bytes: the records tree holds `live` bytes in `pages`.
        let needed = UInt64(Double(usedBytes - low) * Double(live) / Double(pages)) + 1
        var target = backlog.sequence(reaching: backlog.bytesBefore(first, next: next) + needed, from: first, next: next)
        for (sink, checkpoint) in work.state.cursors where limits[sink]?.skips != true {
            target = min(target, checkpoint.nextSequence)
        }
        return target > work.state.minimumCursor ? target : nil
    }

    /// `topic/partition@offset (Kafka time)` of a spooled record, or nil if it is not there.
    private func describeRecord(_ txn: borrowing LMDBTransaction, sequence: UInt64, topics: [String]) throws(SpoolError) -> String? {
        try log.record(txn, sequence: sequence) { bytes -> String? in
            guard let decoded = RecordCodec.decode(bytes), decoded.topicIndex < topics.count else { return nil }
            return "\(topics[decoded.topicIndex])/\(decoded.partition)@\(decoded.offset) (kafka time \(decoded.timestampMs) ms)"
        }
    }

    /// Whether an idle writer should open a transaction to skip: an age limit passed with no new
    /// records arriving, or the spool is full and a `skip_oldest` sink alone holds its oldest
    /// records (the case where nothing else would commit: Kafka paused, the sink dead).
    func backlogSkipDue() -> Bool {
        let limits = backlogLimits.current
        guard limits.values.contains(where: \.skips) else { return false }
        let next = state.nextSequence
        let now = Self.nowMillis()
        for (sink, checkpoint) in state.cursors {
            guard let limit = limits[sink], limit.skips, limit.maxAge != nil else { continue }
            if backlog.skipTarget(cursor: checkpoint.nextSequence, next: next, limit: limit, nowMs: now) != nil { return true }
        }
        guard !trimBacklog, published.read({ $0.pausedForSpace || $0.outOfSpace }) else { return false }
        let minimum = state.minimumCursor
        guard minimum < next else { return false }
        var skipperAtMinimum = false
        for (sink, checkpoint) in state.cursors where checkpoint.nextSequence == minimum {
            if limits[sink]?.skips != true { return false }
            skipperAtMinimum = true
        }
        return skipperAtMinimum
    }

    /// Counts and logs the skips of a committed transaction: a warning when a sink's episode
    /// starts; the episode's end is logged by ``endQuietEpisodes()``.
    func noteSkips(_ moves: [SkipMove]) {
        let now = ContinuousClock.now
        for move in moves {
            if var episode = skipEpisodes[move.sink] {
                episode.lastSkip = now
                episode.to = move.to
                episode.sequences += move.to - move.from
                episode.skips += 1
                episode.reasons.insert(move.reason.rawValue)
                episode.last = move.last ?? episode.last
                episode.spooledToMs = move.spooledToMs ?? episode.spooledToMs
                skipEpisodes[move.sink] = episode
                continue
            }
            skipEpisodes[move.sink] = SkipEpisode(
                started: now, lastSkip: now, from: move.from, to: move.to, sequences: move.to - move.from, skips: 1,
                reasons: [move.reason.rawValue], first: move.first, last: move.last,
                spooledFromMs: move.spooledFromMs, spooledToMs: move.spooledToMs)
            logger.warning(
                """
                sink is over its backlog limit (\(move.reason.rawValue)); skipping its oldest records so the other sinks \
                keep flowing (sinks.\(move.sink).backlog.when_full: skip_oldest): they will not be sent to it; \
                see logbridge_sink_records_skipped_total
                """,
                metadata: [
                    LogKey.sink: "\(move.sink)", "from_sequence": "\(move.from)", "to_sequence": "\(move.to)",
                    "first_skipped": "\(move.first ?? "-")", "last_skipped": "\(move.last ?? "-")",
                    "spooled_from_ms": "\(move.spooledFromMs.map { "\($0)" } ?? "-")",
                    "spooled_to_ms": "\(move.spooledToMs.map { "\($0)" } ?? "-")",
                ])
        }
    }

    /// Logs the end of each episode that has gone `skipEpisodeQuietPeriod` without a skip, with
    /// the whole range it skipped.
    func endQuietEpisodes() {
        guard !skipEpisodes.isEmpty else { return }
        let now = ContinuousClock.now
        for (sink, episode) in skipEpisodes where now - episode.lastSkip >= configuration.skipEpisodeQuietPeriod {
            skipEpisodes[sink] = nil
            logger.notice(
                "sink is back under its backlog limit; no more records skipped",
                metadata: [
                    LogKey.sink: "\(sink)", "from_sequence": "\(episode.from)", "to_sequence": "\(episode.to)",
                    "sequences_skipped": "\(episode.sequences)", "skips": "\(episode.skips)",
                    "reasons": "\(episode.reasons.sorted().joined(separator: ","))",
                    "duration": "\(episode.lastSkip - episode.started)",
                    "first_skipped": "\(episode.first ?? "-")", "last_skipped": "\(episode.last ?? "-")",
                    "spooled_from_ms": "\(episode.spooledFromMs.map { "\($0)" } ?? "-")",
                    "spooled_to_ms": "\(episode.spooledToMs.map { "\($0)" } ?? "-")",
                ])
        }
    }

    /// Each sink's backlog in bytes and the spool time of its oldest record, for `/metrics`.
    func measureBacklogs() -> [String: SinkBacklogStatus] {
        var result: [String: SinkBacklogStatus] = [:]
        let next = state.nextSequence
        for (sink, checkpoint) in state.cursors {
            result[sink] = SinkBacklogStatus(
                bytes: backlog.backlogBytes(from: checkpoint.nextSequence, next: next),
                oldestSpooledAtMs: backlog.spooledAtMs(checkpoint.nextSequence, next: next))
        }
        return result
    }
}
