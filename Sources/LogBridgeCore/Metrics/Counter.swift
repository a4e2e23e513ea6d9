import Synchronization

/// A monotonically increasing counter that any thread may bump, exported to `/metrics` when it
/// has a handle from a ``MetricsRegistry`` behind it.
///
/// The atomic value is kept beside the exported series because the gateway reads its own
/// counters (demo summary, `--until-delivered`, tests) and exported series cannot be read.
public final class Counter: Sendable {
    private let storage = Atomic<Int>(0)
    private let exported: (any CounterHandle)?
    public init(_ exported: (any CounterHandle)? = nil) { self.exported = exported }
    @inlinable public func add(_ n: Int) { if n != 0 { _add(n) } }
    @usableFromInline func _add(_ n: Int) {
        storage.wrappingAdd(n, ordering: .relaxed)
        exported?.increment(by: Int64(n))
    }
    public var value: Int { storage.load(ordering: .relaxed) }
}

/// A value that can go up and down (spool bytes, paused partitions), exported like ``Counter``.
public final class Gauge: Sendable {
    private let storage = Atomic<Int>(0)
    private let exported: (any GaugeHandle)?
    public init(_ exported: (any GaugeHandle)? = nil) { self.exported = exported }
    public func set(_ n: Int) {
        storage.store(n, ordering: .relaxed)
        exported?.set(Int64(n))
    }
    /// Moves the value by `n` (in-flight counts).
    public func add(_ n: Int) {
        storage.wrappingAdd(n, ordering: .relaxed)
        exported?.increment(by: Double(n))
    }
    public var value: Int { storage.load(ordering: .relaxed) }
}
