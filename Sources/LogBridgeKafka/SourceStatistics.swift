import LogBridgeCore
import Synchronization

/// The Kafka source's counters and gauges (`logbridge_source_*`), declared in the registry it is
/// given and read back by the gateway (demo summary, health, tests).
public final class SourceStatistics: Sendable {
    private let registry: any MetricsRegistry
    private let heartbeats: Heartbeats

    /// Records received from Kafka (including tombstones and oversize ones). Exported per
    /// partition as `logbridge_source_records_total` (``sourceRecords(_:)``).
    public let consumed = Counter()
    /// Payload bytes received from Kafka.
    public let consumedBytes: Counter
    /// Tombstones (null values) and empty values, counted and skipped (by the spool writer).
    public let skippedEmpty: Counter
    /// Values over the size limit, sent to the dead-letter store (by the spool writer).
    public let oversize: Counter
    /// Records fetched again that the spool already held (re-delivery after a rebalance or restart).
    public let duplicatesSkipped: Counter
    /// Number of assigned partitions currently paused because the spool is full.
    public let pausedPartitions: Gauge
    /// Times fetching was restarted after librdkafka stopped it for a full prefetch queue and the
    /// queue had drained (``FetchStallWatch``).
    public let fetchRestarts: Counter
    public let assignedPartitions: Gauge
    public let rebalances: Counter
    /// Commits of revoked partitions' offsets the group coordinator refused (the next owner re-reads
    /// from the last committed offset; see the README on rebalances).
    public let revokeCommitFailures: Counter
    /// 1 while this member holds an assignment from the consumer group.
    public let groupJoined: Gauge
    /// Entra ID tokens obtained and handed to librdkafka (`result="success"`), and failed attempts
    /// (`result="failure"`: token endpoint down or refusing, or librdkafka refusing the token).
    public let oauthTokenRefreshes: Counter
    public let oauthTokenRefreshFailures: Counter
    /// Unix time the Entra ID token librdkafka holds expires (0 before the first one).
    public let oauthTokenExpiry: Gauge

    private let partitionMetrics: Mutex<[TopicPartition: (records: Counter, lag: (any GaugeHandle)?)]> = Mutex([:])

    private static let recordsFamily = MetricFamily(
        name: "logbridge_source_records_total", kind: .counter, help: "Records received from Kafka, per partition.",
        labelNames: ["topic", "partition"])
    private static let lagFamily = MetricFamily(
        name: "logbridge_source_consumer_lag", kind: .gauge,
        help: "Records between the partition's high watermark and the next offset to spool.", labelNames: ["topic", "partition"])

    /// - Parameters:
    ///   - registry: where the series are declared; the default exposes nothing (tools, tests).
    ///   - heartbeats: the gateway's loop heartbeats, where the poll loop beats.
    public init(registry: any MetricsRegistry = UnexportedMetrics(), heartbeats: Heartbeats = Heartbeats()) {
        self.registry = registry
        self.heartbeats = heartbeats
        // Per-partition families are made on first use; claimed now so nothing else takes the names.
        try? registry.declare(Self.recordsFamily)
        try? registry.declare(Self.lagFamily)
        consumedBytes = registry.counter("logbridge_source_bytes_total", help: "Payload bytes received from Kafka.")
        skippedEmpty = registry.counter("logbridge_source_skipped_empty_total", help: "Tombstones and empty records skipped.")
        oversize = registry.counter("logbridge_source_oversize_records_total", help: "Records over spool.max_record_bytes, sent to the dead-letter store.")
        duplicatesSkipped = registry.counter("logbridge_source_duplicates_skipped_total", help: "Records fetched again that the spool already held (not spooled twice).")
        pausedPartitions = registry.gauge("logbridge_source_paused_partitions", help: "Assigned partitions paused because the spool is full.")
        fetchRestarts = registry.counter(
            "logbridge_source_fetch_restarts_total",
            help: "Times fetching was restarted after librdkafka stopped it for a full prefetch queue that has since drained.")
        assignedPartitions = registry.gauge("logbridge_source_assigned_partitions", help: "Partitions assigned to this consumer-group member.")
        rebalances = registry.counter("logbridge_source_rebalances_total", help: "Consumer-group rebalance events (assign and revoke).")
        revokeCommitFailures = registry.counter("logbridge_source_revoke_commit_failures_total", help: "Offset commits for revoked partitions refused by the group coordinator (their next owner re-reads from the last commit).")
        groupJoined = registry.gauge("logbridge_source_group_joined", help: "1 while this member holds an assignment from the consumer group.")
        let refreshHelp = "Entra ID token requests for the Kafka endpoint, by result."
        oauthTokenRefreshes = registry.counter("logbridge_source_oauth_token_refresh_total", labels: [("result", "success")], help: refreshHelp)
        oauthTokenRefreshFailures = registry.counter(
            "logbridge_source_oauth_token_refresh_total", labels: [("result", "failure")], help: refreshHelp)
        oauthTokenExpiry = registry.gauge("logbridge_source_oauth_token_expiry_timestamp_seconds", help: "Unix time the Entra ID token librdkafka holds expires.")
    }

    /// The heartbeat of one of the source's loops (`kafka-poll`).
    public func heartbeat(_ name: String) -> Heartbeat { heartbeats.heartbeat(name) }

    /// Records received from one partition (`logbridge_source_records_total{topic,partition}`).
    public func sourceRecords(_ tp: TopicPartition) -> Counter {
        partitionMetrics.withLock { table in
            if let existing = table[tp] { return existing.records }
            let counter = makeSourceRecords(tp)
            table[tp] = (counter, nil)
            return counter
        }
    }

    private func makeSourceRecords(_ tp: TopicPartition) -> Counter {
        registry.counter(Self.recordsFamily.name, labels: Self.labels(tp), help: Self.recordsFamily.help)
    }

    /// Sets a partition's consumer lag: records between its high watermark and the next offset
    /// this member will spool (`logbridge_source_consumer_lag{topic,partition}`); nil removes the
    /// series (the partition was revoked).
    public func setConsumerLag(_ tp: TopicPartition, _ lag: Int64?) {
        partitionMetrics.withLock { table in
            let records = table[tp]?.records ?? makeSourceRecords(tp)
            var gauge = table[tp]?.lag
            if let lag {
                if gauge == nil {
                    gauge = registry.makeGauge(name: Self.lagFamily.name, labels: Self.labels(tp), help: Self.lagFamily.help)
                }
                gauge?.set(lag)
            } else if let existing = gauge {
                registry.unregister(existing)
                gauge = nil
            }
            table[tp] = (records, gauge)
        }
    }

    private static func labels(_ tp: TopicPartition) -> [(String, String)] {
        [("topic", tp.topic), ("partition", "\(tp.partition)")]
    }
}
