import Synchronization

/// When a graceful stop must be over, shared by the stages that stop one after another.
///
/// The source stops first (final commit, group leave), then the sinks drain the spool. Each stage
/// reads the one deadline set when the stop began, so `shutdown_timeout` bounds the whole stop
/// rather than each stage in turn.
public final class StopDeadline: Sendable {
    private let deadline = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    /// Starts the clock (the first call wins) and returns the deadline.
    @discardableResult
    public func begin(timeout: Duration) -> ContinuousClock.Instant {
        deadline.withLock { value in
            if let value { return value }
            let instant = ContinuousClock.now + timeout
            value = instant
            return instant
        }
    }

    /// The deadline, once the stop began.
    public var instant: ContinuousClock.Instant? { deadline.withLock { $0 } }
}
