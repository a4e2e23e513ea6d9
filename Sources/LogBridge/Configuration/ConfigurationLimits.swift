import LogBridgeSpool

/// The accepted range of every duration, size and count key, in one place.
///
/// Values outside these ranges are refused at load (`check`, `run` and SIGHUP reload alike)
/// with the key, its line and the range. Each range keeps the arithmetic done on the value later
/// far from overflow (sizes are added and multiplied, durations become NIO `TimeAmount`s and
/// millisecond counts) and rules out values that would make a loop spin (a zero poll interval or
/// backoff). The upper bounds are far beyond any sensible setting; conf/logbridge.yaml lists them.
enum ConfigurationLimits {
    // MARK: Sizes

    /// `spool.max_bytes`: LMDB maps the whole spool (plus a 5% reserve) into the address space.
    static let spoolMaxBytes = (1 << 20)...(16 << 40)
    /// `spool.dead_letter_max_bytes`: also at most half of `spool.max_bytes` (checked beside it).
    static let deadLetterMaxBytes = (1 << 20)...(8 << 40)
    /// `source.kafka.max_record_bytes`: Kafka's own ceiling (`message.max.bytes`) is 1,000,000,000.
    static let maxRecordBytes = 1024...(1 << 30)
    /// `sinks.*.max_batch_bytes`: a batch is built in memory, once per request in flight.
    static let maxBatchBytes = 1024...(256 << 20)
    /// `sinks.*.backlog.max_bytes`: compared with the bytes of spooled records, like `spool.max_bytes`.
    static let backlogMaxBytes = (64 << 10)...(16 << 40)
    /// `cri` processor's `max_bytes`: one reassembled message, held in memory.
    static let criMaxBytes = 1024...(256 << 20)

    // MARK: Durations

    static let shutdownTimeout = Duration.zero ... .seconds(24 * 3600)
    /// `sinks.*.backlog.max_age`: measured to about a second (the spool notes times per second).
    static let backlogMaxAge = Duration.seconds(1) ... .seconds(366 * 24 * 3600)
    /// `sinks.*.interval`: 0 sends what is ready at once.
    static let interval = Duration.zero ... .seconds(3600)
    /// `sinks.*.max_backoff`: 0 would retry a failing endpoint in a tight loop.
    static let maxBackoff = Duration.milliseconds(10) ... .seconds(3600)
    static let requestTimeout = Duration.milliseconds(100) ... .seconds(3600)
    static let ejectionTime = Duration.milliseconds(10) ... .seconds(3600)
    /// `ack_poll_interval`: 0 would poll the indexer in a tight loop.
    static let ackPollInterval = Duration.milliseconds(100) ... .seconds(600)
    static let ackTimeout = Duration.seconds(1) ... .seconds(24 * 3600)
    static let criFlushTimeout = Duration.zero ... .seconds(3600)
    static let adminIdleTimeout = Duration.seconds(1) ... .seconds(24 * 3600)
    static let adminRequestTimeout = Duration.milliseconds(100) ... .seconds(3600)

    // MARK: Counts

    /// `source.kafka.topics`: distinct names the spool can index (see
    /// ``SpoolConfiguration/maxTopics``).
    static let topics = 1...SpoolConfiguration.maxTopics
    static let batchSize = 1...1_000_000
    static let concurrency = 1...256
    static let ejectAfterFailures = 1...1000
    static let maxPendingAcks = 1...100_000
    static let maxStreams = 1...100_000
    static let maxSeries = 1...1_000_000
    static let hashLength = 4...64
    static let adminMaxConnections = 1...4096
    /// `admin.listen`: 0 asks the system for a free port.
    static let listenPort = 0...65535
}
