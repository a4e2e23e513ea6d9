import DequeModule
import Foundation
import Synchronization

/// A thread of its own that runs blocking work (file writes with fsync, LMDB reads that may fault
/// pages in) off Swift's cooperative pool, one job at a time, in submission order.
///
/// `@unchecked Sendable`: the job queue is guarded by `condition`; the thread only reads it under
/// the lock.
public final class DedicatedThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: Deque<() -> Void> = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameter name: shown by `top -H` and in crash reports.
    public init(name: String) {
        startNamedThread(name) { [self] in self.loop() }
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

/// Starts a thread named `name` (shown by `top -H` and `ps -L`; Linux keeps 15 characters).
///
/// Foundation's `Thread.name` does not reach the kernel on Linux, and `pthread_setname_np` is not
/// visible to Swift there, so the thread writes its name to `/proc/thread-self/comm` itself.
public func startNamedThread(_ name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread {
        #if os(Linux)
        if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
            try? comm.write(contentsOf: Array(name.utf8.prefix(15)))
            try? comm.close()
        }
        #endif
        body()
    }
    thread.name = name
    thread.start()
}
