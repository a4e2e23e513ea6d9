import Foundation
import Synchronization

/// A thread of its own that runs blocking work (file writes with fsync, LMDB reads that may fault
/// pages in) off Swift's cooperative pool, one job at a time, in submission order.
///
/// `@unchecked Sendable`: the job queue is guarded by `condition`; the thread only reads it under
/// the lock.
public final class DedicatedThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter name: shown by `top -H` and in crash reports.
    public init(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                break
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
        finished.signal()
    }

    /// Runs `body` on the thread and returns its result to the awaiting task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    private func enqueue(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Finishes the queued jobs, then ends the thread. Blocks until it has ended.
    public func shutdown() {
        condition.lock()
        let alreadyStopping = stopping
        stopping = true
        condition.signal()
        condition.unlock()
        if !alreadyStopping { finished.wait() }
    }

    deinit {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }
}
