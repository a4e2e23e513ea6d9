import Synchronization

/// A flag that goes from unset to set once, shared between threads and tasks: "this batch's
/// delivery finished", "this request's deadline fired".
public final class OnceFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { flag.load(ordering: .acquiring) }

    public func set() { flag.store(true, ordering: .releasing) }
}
