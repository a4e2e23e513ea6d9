/// How the shared driver feeds one sink.
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

    public init(
        batchSize: Int = 500, maxBatchBytes: Int = 1 << 20, interval: Duration = .zero,
        initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(30),
        shutdownTimeout: Duration = .seconds(30), concurrency: Int = 1
    ) {
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.maxBatchBytes = maxBatchBytes
        self.interval = interval
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.shutdownTimeout = shutdownTimeout
    }
}
