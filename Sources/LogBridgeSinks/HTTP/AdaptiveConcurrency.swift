import LogBridgeCore
import Synchronization

/// `concurrency: adaptive`: how many requests a sink keeps in flight, found by AIMD.
///
/// The limit grows by about one per round of successful requests while latency stays near its
/// long-run level, and halves (at most once per round trip) when the destination pushes back:
/// 429, 503, a timeout or a failed connection. Latency climbing well above its long-run level
/// (requests queueing at the destination) trims it by a tenth. The limit stays within
/// `1...maximum`, so in-flight bytes stay bounded by `maximum` batches. The sink runner takes its
/// send permits from ``permits``, so the limit applies to whole batches in flight.
public final class AdaptiveConcurrency: Sendable {
    public enum Signal: Sendable {
        /// A response that is not push-back, with its latency.
        case success(Duration)
        /// 429, 503, timeout, refused or reset connection.
        case overloaded
    }

    private struct State {
        var limit: Double
        var shortRTT: Double?
        var longRTT: Double?
        var lastDecrease: ContinuousClock.Instant?
    }

    public let permits: AsyncPermits
    public let maximum: Int
    private let state: Mutex<State>

    public init(initial: Int = 2, maximum: Int) {
        self.maximum = max(1, maximum)
        let start = min(max(1, initial), self.maximum)
        permits = AsyncPermits(limit: start)
        state = Mutex(State(limit: Double(start)))
    }

    public var limit: Int { permits.limit }

    public func record(_ signal: Signal, now: ContinuousClock.Instant = .now) {
        let newLimit = state.withLock { state -> Int in
            switch signal {
            case .overloaded:
                let round = Duration.seconds(max(state.longRTT ?? 0.1, 0.05))
                if state.lastDecrease.map({ now - $0 >= round }) ?? true {
                    state.limit = max(1, state.limit / 2)
                    state.lastDecrease = now
                }
            case .success(let latency):
                let rtt = latency.secondsDouble
                let short = state.shortRTT.map { $0 * 0.7 + rtt * 0.3 } ?? rtt
                let long = state.longRTT.map { $0 * 0.95 + rtt * 0.05 } ?? rtt
                state.shortRTT = short
                state.longRTT = long
                if short > long * 2 {
                    let round = Duration.seconds(max(long, 0.05))
                    if state.lastDecrease.map({ now - $0 >= round }) ?? true {
                        state.limit = max(1, state.limit * 0.9)
                        state.lastDecrease = now
                    }
                } else {
                    state.limit = min(Double(maximum), state.limit + 1 / state.limit)
                }
            }
            return Int(state.limit)
        }
        if newLimit != permits.limit { permits.setLimit(newLimit) }
    }
}
