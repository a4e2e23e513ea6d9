import Dispatch
import Synchronization

/// The last time a loop went round, for `/healthz`: a loop that stops turning (a thread stuck in
/// a C call, a deadlock) shows as an old heartbeat.
public final class Heartbeat: Sendable {
    private let lastNanos = Atomic<UInt64>(DispatchTime.now().uptimeNanoseconds)
    private let stopped = Atomic<Bool>(false)
    public init() {}
    public func beat() { lastNanos.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed) }
    /// The loop ended on purpose (shutdown): no longer judged.
    public func stop() { stopped.store(true, ordering: .relaxed) }
    public var isStopped: Bool { stopped.load(ordering: .relaxed) }
    public var age: Duration {
        let now = DispatchTime.now().uptimeNanoseconds
        let last = lastNanos.load(ordering: .relaxed)
        return .nanoseconds(Int64(now > last ? now - last : 0))
    }
}

/// The heartbeats of a gateway's loops by name (`kafka-poll`, `spool-writer`, `sink:NAME`),
/// shared by the stages that beat them and the health check that reads them.
public final class Heartbeats: Sendable {
    private let table = Mutex<[String: Heartbeat]>([:])

    public init() {}

    /// The heartbeat of a named loop, created on first use (again once the last one stopped).
    public func heartbeat(_ name: String) -> Heartbeat {
        table.withLock { table in
            if let existing = table[name], !existing.isStopped { return existing }
            let created = Heartbeat()
            table[name] = created
            return created
        }
    }

    /// Loops whose heartbeat is older than `limit`, by name (running loops only).
    public func stalledLoops(olderThan limit: Duration) -> [String] {
        table.withLock { table in table.filter { !$0.value.isStopped && $0.value.age > limit }.keys.sorted() }
    }
}
