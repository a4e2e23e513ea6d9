import LogBridgeCore

/// A point in the spool's log: how many record bytes were spooled before `sequence`, and when the
/// record at `sequence` was spooled.
struct BacklogMark: Equatable {
    var sequence: UInt64
    var bytesBefore: UInt64
    var spooledAtMs: Int64
}

/// Running byte totals and spool times of the log, noted every 256 KiB or second of records, so a
/// sink's backlog (bytes and age) is a binary search instead of a scan of the records it has not
/// delivered. Within a span between two marks, bytes are interpolated by sequence number (records
/// of one span are of similar size: they came from the same fetches); times are the span's
/// start, so an age is over-estimated by at most a second.
///
/// Kept in the `marks` database (written in the same transaction as the records) and mirrored in
/// memory on the writer thread; trimmed with the records, keeping the mark that covers the oldest
/// record.
struct BacklogIndex {
    /// Ascending by sequence (strictly) and by time.
    private(set) var marks: [BacklogMark] = []
    /// Bytes of every record spooled so far (the log's end).
    private(set) var totalBytes: UInt64 = 0

    /// A new mark once the current span holds this many bytes...
    static let spanBytes: UInt64 = 256 << 10
    /// ...or is this old.
    static let spanMilliseconds: Int64 = 1000

    init(marks: [BacklogMark] = [], totalBytes: UInt64 = 0) {
        self.marks = marks
        self.totalBytes = totalBytes
    }

    /// Records of `bytes` in total are about to be spooled from `sequence` on. Returns the mark
    /// added for them, if any, for the caller to store.
    mutating func note(sequence: UInt64, bytes: UInt64, nowMs: Int64) -> BacklogMark? {
        var added: BacklogMark?
        if let last = marks.last {
            if sequence > last.sequence,
                totalBytes - last.bytesBefore >= Self.spanBytes || nowMs - last.spooledAtMs >= Self.spanMilliseconds
            {
                // Times stay ascending even if the wall clock steps back.
                added = BacklogMark(sequence: sequence, bytesBefore: totalBytes, spooledAtMs: max(nowMs, last.spooledAtMs))
            }
        } else {
            added = BacklogMark(sequence: sequence, bytesBefore: totalBytes, spooledAtMs: nowMs)
        }
        if let added { marks.append(added) }
        totalBytes += bytes
        return added
    }

    /// Undoes the notes of a transaction that did not commit.
    mutating func rollBack(markCount: Int, totalBytes: UInt64) {
        if marks.count > markCount { marks.removeLast(marks.count - markCount) }
        self.totalBytes = totalBytes
    }

    /// Drops the marks wholly before `first` (the oldest record still spooled), keeping the one
    /// that covers it. Returns the sequence of the first mark kept: stored marks below it can go.
    mutating func dropMarks(before first: UInt64) -> UInt64? {
        guard let index = span(containing: first), index > 0 else { return nil }
        marks.removeFirst(index)
        return marks[0].sequence
    }

    /// The index of the mark whose span holds `sequence` (the last mark at or before it).
    func span(containing sequence: UInt64) -> Int? {
        var low = 0, high = marks.count
        while low < high {
            let middle = (low + high) / 2
            if marks[middle].sequence <= sequence { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    /// The end of span `index`: the next mark, or the log's end.
    private func end(of index: Int, next: UInt64) -> (sequence: UInt64, bytes: UInt64) {
        index + 1 < marks.count ? (marks[index + 1].sequence, marks[index + 1].bytesBefore) : (next, totalBytes)
    }

    /// Record bytes spooled before `sequence`; `next` is the log's next sequence.
    func bytesBefore(_ sequence: UInt64, next: UInt64) -> UInt64 {
        guard sequence < next else { return totalBytes }
        guard let index = span(containing: sequence) else { return marks.first?.bytesBefore ?? totalBytes }
        let mark = marks[index]
        let end = end(of: index, next: next)
        guard end.sequence > mark.sequence, end.bytes > mark.bytesBefore else { return mark.bytesBefore }
        let fraction = Double(sequence - mark.sequence) / Double(end.sequence - mark.sequence)
        return min(end.bytes, mark.bytesBefore + UInt64(Double(end.bytes - mark.bytesBefore) * fraction))
    }

    /// Bytes of the records from `cursor` to the log's end.
    func backlogBytes(from cursor: UInt64, next: UInt64) -> UInt64 {
        totalBytes - min(totalBytes, bytesBefore(cursor, next: next))
    }

    /// When the record at `cursor` was spooled (the start of its span); nil when none is left.
    func spooledAtMs(_ cursor: UInt64, next: UInt64) -> Int64? {
        guard cursor < next else { return nil }
        return span(containing: cursor).map { marks[$0].spooledAtMs } ?? marks.first?.spooledAtMs
    }

    /// The first sequence at or after `from` with at least `target` bytes spooled before it.
    func sequence(reaching target: UInt64, from: UInt64, next: UInt64) -> UInt64 {
        guard target < totalBytes else { return next }
        // The last mark with bytesBefore <= target starts the span that reaches it.
        var low = 0, high = marks.count
        while low < high {
            let middle = (low + high) / 2
            if marks[middle].bytesBefore <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return max(from, marks.first?.sequence ?? next) }
        let index = low - 1
        let mark = marks[index]
        let end = end(of: index, next: next)
        var sequence = end.sequence
        if end.bytes > mark.bytesBefore, end.sequence > mark.sequence {
            let fraction = Double(target - mark.bytesBefore) / Double(end.bytes - mark.bytesBefore)
            sequence = mark.sequence + UInt64((Double(end.sequence - mark.sequence) * fraction).rounded(.up))
            // Rounding may leave it a record short or long; settle on the first that reaches.
            while sequence < end.sequence, bytesBefore(sequence, next: next) < target { sequence += 1 }
            while sequence > mark.sequence, bytesBefore(sequence - 1, next: next) >= target { sequence -= 1 }
        }
        return min(next, max(from, sequence))
    }

    /// The first sequence spooled at or after `cutoffMs` (the start of the first span that
    /// begins then), or `next`.
    func firstSequence(spooledAtOrAfter cutoffMs: Int64, next: UInt64) -> UInt64 {
        var low = 0, high = marks.count
        while low < high {
            let middle = (low + high) / 2
            if marks[middle].spooledAtMs < cutoffMs { low = middle + 1 } else { high = middle }
        }
        return low < marks.count ? marks[low].sequence : next
    }

    /// How far a sink at `cursor` must skip to be back under `limit`, and why; nil when it is
    /// under (or has nothing left to read). Only as far as needed: the bytes limit moves it to the
    /// first record from which at most `maxBytes` remain, the age limit to the first span
    /// spooled within `maxAge`.
    func skipTarget(cursor: UInt64, next: UInt64, limit: SinkBacklogLimit, nowMs: Int64) -> (sequence: UInt64, reason: SkipReason)? {
        guard limit.skips, cursor < next else { return nil }
        var target = cursor
        var reason = SkipReason.maxBytes
        if let maxBytes = limit.maxBytes.map({ UInt64(max(0, $0)) }), backlogBytes(from: cursor, next: next) > maxBytes {
            let reaching = sequence(reaching: totalBytes - maxBytes, from: cursor, next: next)
            if reaching > target { target = reaching }
        }
        if let maxAge = limit.maxAge, let spooled = spooledAtMs(cursor, next: next) {
            let cutoff = nowMs - maxAge.milliseconds
            if spooled < cutoff {
                let first = firstSequence(spooledAtOrAfter: cutoff, next: next)
                if first > target {
                    target = first
                    reason = .maxAge
                }
            }
        }
        return target > cursor ? (target, reason) : nil
    }
}
