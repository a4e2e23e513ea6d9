import LogBridgeCore
import Synchronization

/// A request body, and the records (indexes into the batch) whose invalid UTF-8 it replaced.
struct EncodedBody: Sendable {
    var bytes: [UInt8]
    var repaired: [Int] = []
}

/// Counts each record whose invalid UTF-8 was replaced once per batch, however often its chunk is
/// encoded again (retries, halving after 413 or a refusal).
final class RepairTally: Sendable {
    private let seen = Mutex<Set<Int>>([])
    private let counter: Counter

    init(counter: Counter) {
        self.counter = counter
    }

    /// Counts the records `body` repaired that this tally has not seen; returns the bytes.
    func bytes(of body: EncodedBody) -> [UInt8] {
        if !body.repaired.isEmpty {
            let new = seen.withLock { seen in body.repaired.reduce(0) { $0 + (seen.insert($1).inserted ? 1 : 0) } }
            counter.add(new)
        }
        return body.bytes
    }
}
