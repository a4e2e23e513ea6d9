/// A sink's durable position in the spool, with the sink's own state stored in the same transaction
/// (for example the file sink's file length), so both move together or not at all.
public struct SinkCheckpoint: Sendable, Equatable {
    /// The sequence number of the next record the sink has not delivered.
    public var nextSequence: UInt64
    /// Opaque sink state, committed atomically with `nextSequence`.
    public var state: [UInt8]

    public init(nextSequence: UInt64, state: [UInt8] = []) {
        self.nextSequence = nextSequence
        self.state = state
    }
}
