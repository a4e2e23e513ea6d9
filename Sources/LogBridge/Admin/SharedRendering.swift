import NIOCore
import NIOPosix
import Synchronization

/// One rendering of `/metrics` at a time. A scrape that arrives while a rendering runs waits for
/// it and is answered with the same text, so any number of concurrent scrapers (two Prometheus
/// replicas, a `logbridge status` or two) cost one rendering, and no queue of renderings builds
/// up behind a slow one. Waiters are bounded by `admin.max_connections`: a connection has at
/// most one request being answered (pipelined requests wait in NIO's pipelining handler).
///
/// The rendering runs on NIO's thread pool, never on an event loop: the collectors read LMDB
/// and `/proc`.
final class SharedRendering: Sendable {
    private let waiting = Mutex<[EventLoopPromise<[UInt8]>]?>(nil)
    private let started = Atomic<Int>(0)

    /// Renderings started so far (tests compare it with the scrapes answered).
    var renderingsStarted: Int { started.load(ordering: .relaxed) }

    struct ThreadPoolStopped: Error {}

    /// The result of a rendering that starts now, or of the one under way; `shared` tells which.
    func render(on loop: any EventLoop, _ work: @escaping @Sendable () -> [UInt8]) -> (future: EventLoopFuture<[UInt8]>, shared: Bool) {
        let promise = loop.makePromise(of: [UInt8].self)
        let first = waiting.withLock { waiters -> Bool in
            if waiters != nil {
                waiters!.append(promise)
                return false
            }
            waiters = [promise]
            return true
        }
        if first {
            started.add(1, ordering: .relaxed)
            NIOThreadPool.singleton.submit { state in
                let body = state == .active ? work() : nil
                let waiters = self.waiting.withLock { waiters in
                    defer { waiters = nil }
                    return waiters ?? []
                }
                for waiter in waiters {
                    if let body { waiter.succeed(body) } else { waiter.fail(ThreadPoolStopped()) }
                }
            }
        }
        return (promise.futureResult, !first)
    }
}
