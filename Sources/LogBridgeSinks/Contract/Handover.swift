import Synchronization

/// A runner's notice to its batches that a configuration reload replaces it.
///
/// A batch waiting between two attempts has no request outstanding, so it can be given up and
/// sent again by the runner that replaces this one, from the committed cursor, without leaving a
/// request in an unknown state. Without this a reload meant to fix a failing sink (a CA added to
/// `tls.ca_file`, a new token) waited for batches that only the new settings could deliver, and
/// so never applied.
public final class Handover: Sendable {
    private let requested = Atomic<Bool>(false)

    public init() {}

    /// Asks the batches to end at their next wait between attempts.
    public func request() { requested.store(true, ordering: .releasing) }

    public var isRequested: Bool { requested.load(ordering: .acquiring) }

    /// The notice of the runner whose batch this task delivers.
    @TaskLocal public static var current: Handover?

    /// Waits `delay` between two attempts, ending early once the runner hands over.
    /// - Throws: ``HandedOver`` on a handover; `CancellationError` when the task is cancelled.
    public static func waitBetweenAttempts(_ delay: Duration) async throws {
        let end = ContinuousClock.now + delay
        while true {
            if current?.isRequested == true { throw HandedOver() }
            let left = end - .now
            guard left > .zero else { return }
            try await Task.sleep(for: min(left, .milliseconds(100)))
        }
    }
}

/// A batch given up between two attempts because a reload replaces its runner: it was not
/// delivered, and the next runner sends it again.
public struct HandedOver: Error, Sendable {
    public init() {}
}
