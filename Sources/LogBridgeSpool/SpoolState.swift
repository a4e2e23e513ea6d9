import LogBridgeCore
import Synchronization

/// The spool's bookkeeping, as of the last commit (on the writer thread, or while opening).
struct SpoolState {
    var nextSequence: UInt64 = 0
    var firstSequence: UInt64 = 0
    var nextDeadLetter: UInt64 = 0
    var topics: [String] = []
    var topicIndexes: [String: UInt16] = [:]
    var offsets: [PartitionKey: Int64] = [:]
    var cursors: [String: SinkCheckpoint] = [:]

    /// Records below this have been delivered by every sink and can be deleted.
    var minimumCursor: UInt64 { cursors.values.map(\.nextSequence).min() ?? firstSequence }

    func nextOffset(of tp: TopicPartition) -> Int64? {
        guard let index = topicIndexes[tp.topic] else { return nil }
        return offsets[PartitionKey(topic: index, partition: tp.partition)]
    }

    var offsetsByPartition: [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for (key, value) in offsets {
            result[TopicPartition(topic: topics[Int(key.topic)], partition: key.partition)] = value
        }
        return result
    }
}

/// State the writer publishes after each commit for other threads to read.
struct PublishedState: Sendable {
    var offsets: [TopicPartition: Int64] = [:]
    var cursors: [String: SinkCheckpoint] = [:]
    var topics: [String] = []
    var usage: SpoolUsage
    /// Above the high watermark, until back under the low one.
    var pausedForSpace = false
    /// The last write failed for lack of space; fetched batches are waiting.
    var outOfSpace = false
    /// Each sink's backlog as of the last commit.
    var backlogs: [String: SinkBacklogStatus] = [:]

    mutating func apply(_ state: SpoolState, usage: SpoolUsage, configuration: SpoolConfiguration) {
        offsets = state.offsetsByPartition
        cursors = state.cursors
        topics = state.topics
        self.usage = usage
        let high = Double(configuration.maxBytes) * configuration.highWatermark
        let low = Double(configuration.maxBytes) * configuration.lowWatermark
        // Once full, stay "out of space" until the low watermark, like the high one: resuming as
        // soon as one batch fits would flap the partitions between paused and fetching.
        if Double(usage.usedBytes) <= low { outOfSpace = false }
        if Double(usage.usedBytes) >= high {
            pausedForSpace = true
        } else if Double(usage.usedBytes) <= low {
            pausedForSpace = false
        }
    }
}

/// A lock around ``PublishedState``.
final class Published: Sendable {
    private let mutex: Mutex<PublishedState>
    init(_ initial: PublishedState) { mutex = Mutex(initial) }

    @discardableResult
    func update<T>(_ body: (inout PublishedState) -> T) -> T { mutex.withLock { body(&$0) } }

    func read<T>(_ body: (PublishedState) -> T) -> T { mutex.withLock { body($0) } }
}

/// What a sink has not delivered yet, for `/metrics`.
struct SinkBacklogStatus: Sendable, Equatable {
    /// Record bytes (value, key, Kafka headers, 24-byte header) from the sink's cursor to the log's end.
    var bytes: UInt64
    /// When its oldest undelivered record was spooled (Unix ms); nil when it has caught up.
    var oldestSpooledAtMs: Int64?
}

/// Each sink's `backlog` setting, read by the writer thread, replaced on a configuration reload.
final class BacklogLimits: Sendable {
    private let limits = Mutex<[String: SinkBacklogLimit]>([:])
    var current: [String: SinkBacklogLimit] { limits.withLock { $0 } }
    func set(_ new: [String: SinkBacklogLimit]) { limits.withLock { $0 = new } }
}
