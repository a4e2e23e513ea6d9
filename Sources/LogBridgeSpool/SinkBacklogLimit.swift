/// How much of the spool one sink may hold back, and what happens when it holds more
/// (`sinks.NAME.backlog`).
///
/// Every sink reads the same spool, which is trimmed behind the slowest cursor: a sink that is
/// down holds every record it has not delivered, and once the spool reaches its high watermark
/// Kafka pauses for every sink. `block` keeps that lossless behaviour; `skip_oldest` lets a
/// secondary sink fall behind without stopping the others.
public struct SinkBacklogLimit: Sendable, Equatable {
    public enum Policy: String, Sendable, CaseIterable {
        /// Wait: the sink's records stay in the spool until it delivers them, and a full spool
        /// pauses Kafka (lossless). The default.
        case block
        /// Move the sink's cursor past its oldest records, only as far as needed to get back under
        /// its limit (and, when the spool reaches its high watermark because of this sink, as far as
        /// needed to bring the spool back to its low watermark). The records skipped are not sent
        /// to this sink; the others still receive them.
        case skipOldest = "skip_oldest"
    }

    /// Bytes of spooled records (value, key, Kafka headers and a 24-byte header each) the sink has not delivered,
    /// at most; nil: no byte limit. LMDB's pages add about a third on disk.
    public var maxBytes: Int?
    /// Age of the sink's oldest undelivered record, measured from when it was spooled (not its
    /// Kafka timestamp: producers set those, and a replayed or clock-skewed topic would look
    /// ancient), at most; nil: no age limit. Precise to about a second.
    public var maxAge: Duration?
    /// Default: `block`.
    public var whenFull: Policy

    public init(maxBytes: Int? = nil, maxAge: Duration? = nil, whenFull: Policy = .block) {
        self.maxBytes = maxBytes
        self.maxAge = maxAge
        self.whenFull = whenFull
    }

    /// Lossless: today's behaviour, whatever the limits say.
    public static let block = SinkBacklogLimit()

    public var skips: Bool { whenFull == .skipOldest }
}

/// Why a sink's oldest records were skipped.
enum SkipReason: String, Sendable {
    case maxBytes = "backlog.max_bytes"
    case maxAge = "backlog.max_age"
    case spoolFull = "spool.high_watermark"
}
