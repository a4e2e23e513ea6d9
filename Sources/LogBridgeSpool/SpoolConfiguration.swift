import LogBridgeCore

/// Where and how big the durable spool is.
public struct SpoolConfiguration: Sendable, Equatable {
    /// Directory holding the LMDB files. Created if missing.
    public var path: String
    /// The most the spool may hold on disk. Default: 10 GiB.
    public var maxBytes: Int
    /// Fraction of `maxBytes` at which the source pauses its partitions. Default: 0.9.
    public var highWatermark: Double
    /// Fraction of `maxBytes` under which paused partitions resume. Default: 0.7.
    public var lowWatermark: Double
    /// Records with a larger value go to the dead-letter store instead of the spool. Default: 1 MiB
    /// (the Event Hubs maximum event size).
    public var maxRecordBytes: Int
    /// A write transaction is committed once it holds this many payload bytes. Default: 8 MiB.
    /// Larger transactions amortise the fsync; smaller ones bound the writer's dirty-page memory.
    public var transactionMaxBytes: Int
    /// Fetched batches waiting for the writer, in bytes, before the source is held back. Default: 8 MiB,
    /// one transaction's worth (``transactionMaxBytes``): the writer commits what it took while the
    /// source fills the queue again. 16 MiB kept more of a backlog in memory for no more records per
    /// second (docs/cpu-profile.md, "Memory").
    public var queueMaxBytes: Int
    /// The most the dead-letter store may hold, in bytes of its pages (counted like `maxBytes`, of
    /// which it is a part); nil for the default, a tenth of `maxBytes`. A letter that takes the
    /// store over the limit makes room by deleting the oldest letters: dead letters never hold up
    /// the records behind them, and take no more than this from the backlog's room.
    public var deadLetterMaxBytes: Int?
    /// How records are compressed on disk (`spool.compression`). Default: lz4 (see
    /// docs/spool-format.md for the measurements behind the choice).
    public var compression: SpoolCompression
    /// How long a sink must go without a skip (`sinks.NAME.backlog.when_full: skip_oldest`) before
    /// its skip episode is logged as over. Default: 60 s.
    public var skipEpisodeQuietPeriod: Duration

    /// `deadLetterMaxBytes`, or its default.
    public var deadLetterByteLimit: Int { deadLetterMaxBytes ?? maxBytes / 10 }

    /// Distinct topics the spool can ever index: each record stores its topic as a 16-bit index
    /// (``RecordCodec`` in SpoolLayout.swift), and the topic table keeps every topic it has seen.
    public static let maxTopics = Int(UInt16.max) + 1

    public init(
        path: String,
        maxBytes: Int = 10 << 30,
        highWatermark: Double = 0.9,
        lowWatermark: Double = 0.7,
        maxRecordBytes: Int = 1 << 20,
        transactionMaxBytes: Int = 8 << 20,
        queueMaxBytes: Int = 8 << 20,
        deadLetterMaxBytes: Int? = nil,
        skipEpisodeQuietPeriod: Duration = .seconds(60),
        compression: SpoolCompression = .lz4
    ) {
        self.compression = compression
        self.skipEpisodeQuietPeriod = skipEpisodeQuietPeriod
        self.path = path
        self.maxBytes = maxBytes
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
        self.maxRecordBytes = maxRecordBytes
        self.transactionMaxBytes = transactionMaxBytes
        self.queueMaxBytes = queueMaxBytes
        self.deadLetterMaxBytes = deadLetterMaxBytes
    }
}

/// How the spool compresses its segments (`spool.compression`). The setting applies to what is
/// written from now on: each segment names its own compression, so a spool written with one
/// setting is read whatever the setting is later.
public enum SpoolCompression: String, Sendable, CaseIterable {
    case none
    case lz4
    case zstd
}

/// How full the spool is.
public struct SpoolUsage: Sendable, Equatable {
    /// Bytes held by live pages (records, offsets, cursors, dead letters, LMDB's own trees).
    public var usedBytes: Int
    public var maxBytes: Int
    /// Records waiting for at least one sink.
    public var records: Int
    public var deadLetters: Int
    /// Bytes of the dead-letter store's pages (what `SpoolConfiguration.deadLetterMaxBytes` limits).
    public var deadLetterBytes: Int
    /// The sequence number the next spooled record gets.
    public var nextSequence: UInt64
    /// The oldest sequence number still in the spool.
    public var firstSequence: UInt64

    public var fraction: Double { maxBytes > 0 ? Double(usedBytes) / Double(maxBytes) : 0 }
}
