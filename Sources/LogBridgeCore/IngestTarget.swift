/// Where a source hands its fetched batches: the spool, seen from the source's side.
///
/// The Kafka module depends on this protocol rather than on the LMDB spool, so the source can be
/// tested alone and the spool stays the only module that imports LMDB.
public protocol IngestTarget: AnyObject, Sendable {
    /// Queues a batch, waiting up to `timeout` for room; false when there was none.
    func offer(_ batch: IngestBatch, timeout: Duration) -> Bool
    /// Whether the source should pause its partitions (spool above its high watermark or full).
    var wantsSourcePaused: Bool { get }
    /// The next offset the target expects per partition, for partitions it has seen.
    func nextOffsets(for partitions: [TopicPartition]) -> [TopicPartition: Int64]
    /// Makes everything queued durable (or drops what cannot be written for `revoking`) and returns
    /// those partitions' next offsets. Blocks.
    func finishWrites(revoking partitions: Set<TopicPartition>) -> [TopicPartition: Int64]
    /// Registers the callback told of next offsets once they are durable.
    func onDurableOffsets(_ handler: @escaping @Sendable ([TopicPartition: Int64]) -> Void)
}
