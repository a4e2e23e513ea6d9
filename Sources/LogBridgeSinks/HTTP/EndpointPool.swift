import Synchronization

/// Round robin over healthy endpoints, with passive health checking: an endpoint that fails
/// `ejectAfterFailures` times in a row is ejected for `ejectionTime` (doubling, up to 2 minutes),
/// then gets one probe request; a success brings it back.
public final class EndpointPool: Sendable {
    public struct Endpoint: Sendable, Hashable {
        public var index: Int
        public var url: String
    }

    private struct Health {
        var consecutiveFailures = 0
        var ejectedUntil: ContinuousClock.Instant?
        var ejections = 0
        var probing = false
        /// Why the latest requests got no answer; nil once one is answered.
        var fault: EndpointFault?
    }

    private struct State {
        var health: [Health]
        var next = 0
    }

    public let endpoints: [Endpoint]
    private let ejectAfterFailures: Int
    private let ejectionTime: Duration
    private let state: Mutex<State>

    public init(urls: [String], ejectAfterFailures: Int, ejectionTime: Duration) {
        endpoints = urls.enumerated().map { Endpoint(index: $0.offset, url: $0.element) }
        self.ejectAfterFailures = max(1, ejectAfterFailures)
        self.ejectionTime = ejectionTime
        state = Mutex(State(health: Array(repeating: Health(), count: urls.count)))
    }

    /// The endpoint for the next request: the next healthy one in turn, an ejected one whose time
    /// is up (as a probe), or, when every endpoint is ejected, the one that comes back soonest.
    public func next(now: ContinuousClock.Instant = .now) -> Endpoint {
        state.withLock { state in
            let count = endpoints.count
            for step in 0..<count {
                let i = (state.next + step) % count
                let health = state.health[i]
                if let until = health.ejectedUntil {
                    guard now >= until, !health.probing else { continue }
                    state.health[i].probing = true
                }
                state.next = (i + 1) % count
                return endpoints[i]
            }
            let soonest = state.health.indices.min {
                (state.health[$0].ejectedUntil ?? now) < (state.health[$1].ejectedUntil ?? now)
            } ?? 0
            return endpoints[soonest]
        }
    }

    /// An answer came back: the endpoint is healthy again.
    /// - Returns: the network fault this ends, if one was current (the caller logs the recovery).
    @discardableResult
    public func reportSuccess(_ endpoint: Endpoint) -> EndpointFault? {
        state.withLock { state in
            let ended = state.health[endpoint.index].fault
            state.health[endpoint.index] = Health()
            return ended
        }
    }

    /// A request got no answer, for `fault`.
    /// - Returns: whether this failure ejected the endpoint, and whether it starts a new episode
    ///   (the first failure since an answer, or another kind of fault than the last): the caller logs
    ///   the fault then, and only then, so a fault is logged once, not once per retry.
    public func reportFailure(
        _ endpoint: Endpoint, fault: EndpointFault, now: ContinuousClock.Instant = .now
    ) -> (ejected: Bool, newEpisode: Bool) {
        let newEpisode = noteFault(endpoint, fault)
        return (reportFailure(endpoint, now: now), newEpisode)
    }

    /// Records `fault` as the endpoint's current one without counting a failure against its
    /// health (a side request such as an acknowledgement poll).
    /// - Returns: whether it starts a new episode (see ``reportFailure(_:fault:now:)``).
    public func noteFault(_ endpoint: Endpoint, _ fault: EndpointFault) -> Bool {
        state.withLock { state in
            defer { state.health[endpoint.index].fault = fault }
            // The kind makes the episode: a detail may vary from one attempt to the next (which
            // of two timeouts fired first) without the operator's problem changing.
            return state.health[endpoint.index].fault?.kind != fault.kind
        }
    }

    /// An HTTP answer came back (whatever its status): the network fault, if any, is over.
    /// - Returns: the fault this ends (the caller logs the recovery).
    public func clearFault(_ endpoint: Endpoint) -> EndpointFault? {
        state.withLock { state in
            defer { state.health[endpoint.index].fault = nil }
            return state.health[endpoint.index].fault
        }
    }

    /// Each endpoint's current network fault, for those that have one (`/readyz`, metrics).
    public func faults() -> [(endpoint: String, fault: EndpointFault)] {
        state.withLock { state in
            endpoints.compactMap { endpoint in state.health[endpoint.index].fault.map { (endpoint.url, $0) } }
        }
    }

    /// Returns true when this failure ejected the endpoint.
    @discardableResult
    public func reportFailure(_ endpoint: Endpoint, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            var health = state.health[endpoint.index]
            health.consecutiveFailures += 1
            let wasProbe = health.probing
            health.probing = false
            var ejected = false
            if wasProbe || health.consecutiveFailures >= ejectAfterFailures {
                let factor = 1 << min(health.ejections, 5)
                let time = min(ejectionTime * factor, .seconds(120))
                health.ejectedUntil = now + time
                health.ejections += 1
                ejected = true
            }
            state.health[endpoint.index] = health
            return ejected
        }
    }

    /// Every endpoint and whether it is in rotation now.
    public func health(now: ContinuousClock.Instant = .now) -> [(endpoint: String, healthy: Bool)] {
        state.withLock { state in
            endpoints.map { ($0.url, state.health[$0.index].ejectedUntil.map { now >= $0 } ?? true) }
        }
    }

    /// Whether an endpoint is in rotation now (for health metrics and `/readyz`).
    public func isHealthy(_ endpoint: Endpoint, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { ($0.health[endpoint.index].ejectedUntil.map { now >= $0 }) ?? true }
    }
}

extension EndpointPool {
    /// `scheme://host:port` of a URL, for logs and messages: no user information, path or query,
    /// whatever the URL holds (a redirect's `Location` comes from the sink, not the operator).
    public static func displayOrigin(_ url: String) -> String {
        switch EndpointURL.parse(url) {
        case .success(let endpoint): return endpoint.origin
        case .failure(.credentials(let origin?)), .failure(.queryOrFragment(let origin?)): return origin
        case .failure: return "(not an absolute http(s) URL)"
        }
    }
}
