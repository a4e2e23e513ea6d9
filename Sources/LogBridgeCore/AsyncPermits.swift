import DequeModule
import Synchronization

/// A counting semaphore for tasks: at most `limit` holders at once, waiters served in order.
/// The limit can change while permits are held (adaptive concurrency lowers or raises it); a
/// lowered limit takes effect as holders release.
public final class AsyncPermits: Sendable {
    private struct State {
        var limit: Int
        var held = 0
        var nextID = 0
        var waiters: Deque<(id: Int, continuation: CheckedContinuation<Bool, Never>)> = []

        mutating func grantWaiting() -> [CheckedContinuation<Bool, Never>] {
            var granted: [CheckedContinuation<Bool, Never>] = []
            while held < limit, !waiters.isEmpty {
                held += 1
                granted.append(waiters.removeFirst().continuation)
            }
            return granted
        }
    }

    private let state: Mutex<State>

    public init(limit: Int) {
        state = Mutex(State(limit: max(1, limit)))
    }

    public var limit: Int { state.withLock { $0.limit } }
    public var available: Int { state.withLock { max(0, $0.limit - $0.held) } }

    /// Takes a permit if one is free now.
    public func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.held < state.limit, state.waiters.isEmpty else { return false }
            state.held += 1
            return true
        }
    }

    /// Waits for a permit.
    /// - Throws: `CancellationError` when the task is cancelled first (no permit is then held).
    public func acquire() async throws(CancellationError) {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        let granted = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let answer = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.held < state.limit && state.waiters.isEmpty {
                        state.held += 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let answer { continuation.resume(returning: answer) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
        if !granted { throw CancellationError() }
    }

    public func release() {
        let next = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.held -= 1
            return state.grantWaiting()
        }
        next.forEach { $0.resume(returning: true) }
    }

    /// Changes how many holders are allowed (at least 1).
    public func setLimit(_ limit: Int) {
        let next = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.limit = max(1, limit)
            return state.grantWaiting()
        }
        next.forEach { $0.resume(returning: true) }
    }
}
