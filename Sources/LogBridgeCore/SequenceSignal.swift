import Synchronization

/// Wakes tasks waiting for a counter that only grows (the spool's committed log, a sink's
/// finished sends), without polling.
public final class SequenceSignal: Sendable {
    private struct State {
        var next: UInt64
        var closed = false
        var nextWaiterID = 0
        var waiters: [Int: (after: UInt64, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let state: Mutex<State>

    public init(next: UInt64) { state = Mutex(State(next: next)) }

    /// The current value: for the spool, the sequence number the next committed record will get.
    public var next: UInt64 { state.withLock { $0.next } }

    /// Publishes a new end of the committed log and wakes waiters it satisfies.
    public func publish(next: UInt64) {
        update { $0 = max($0, next) }
    }

    /// Adds one to the value and wakes the waiters it satisfies.
    public func advance() {
        update { $0 += 1 }
    }

    private func update(_ change: (inout UInt64) -> Void) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            change(&state.next)
            var ready: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in state.waiters where waiter.after < state.next {
                ready.append(waiter.continuation)
                state.waiters[id] = nil
            }
            return ready
        }
        ready.forEach { $0.resume() }
    }

    /// Wakes everybody for good (closing).
    public func close() {
        let all = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        all.forEach { $0.resume() }
    }

    /// Returns once the value passes `sequence` (for the spool: a record with a sequence number
    /// >= `sequence` is committed), the signal closes, or the task is cancelled.
    public func wait(forSequence sequence: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || sequence < state.next || Task.isCancelled { return true }
                    state.waiters[id] = (sequence, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
