/// How the delivery driver (``SinkRunner``) feeds one sink.
public struct SinkRunnerConfiguration: Sendable, Equatable {
    /// Most records per batch. Default: 500 (the Splunk add-on's `batch_size`).
    public var batchSize: Int
    /// Most payload bytes per batch. Default: 1 MiB.
    public var maxBatchBytes: Int
    /// How long a partial batch may wait for more records before it is sent anyway; zero sends
    /// whatever is available at once. Default: 0 for file and console sinks.
    public var interval: Duration
    /// First retry delay after a failed delivery; doubles up to `maxBackoff`, with jitter.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// On shutdown, how long the sink may keep draining the spool. Default: 30 s.
    public var shutdownTimeout: Duration
    /// Batches in flight at once. Cursors still move in spool order. Default: 1 (file and console
    /// sinks must stay at 1: their state is the write position).
    public var concurrency: Int
    /// Batches sent and waiting for the destination's confirmation (Splunk HEC indexer
    /// acknowledgements), on top of `concurrency`. They hold no payload in memory. Default: 0.
    public var maxPendingConfirmations: Int

    public init(
        batchSize: Int = 500, maxBatchBytes: Int = 1 << 20, interval: Duration = .zero,
        initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(30),
        shutdownTimeout: Duration = .seconds(30), concurrency: Int = 1,
        maxPendingConfirmations: Int = 0
    ) {
        self.concurrency = concurrency
        self.maxPendingConfirmations = maxPendingConfirmations
        self.batchSize = batchSize
        self.maxBatchBytes = maxBatchBytes
        self.interval = interval
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.shutdownTimeout = shutdownTimeout
    }
}
