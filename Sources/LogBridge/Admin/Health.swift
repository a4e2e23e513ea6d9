import LogBridgeCore

extension Gateway {
    /// A loop whose heartbeat is older than this is reported stalled by `/healthz`. The loops wake
    /// at least every second; 30 s leaves room for a slow fsync or a long GC-free pause in a C call.
    static let stalledAfter: Duration = .seconds(30)

    /// Why the process is unhealthy (a loop stopped turning); empty when it is healthy.
    /// `/healthz` answers 503 with these: an orchestrator restarts the process.
    public func healthProblems() -> [String] {
        statistics.stalledLoops(olderThan: Self.stalledAfter).map { "\($0): loop has not turned for over 30 s" }
    }

    /// Why the gateway is not ready; empty when it is. `/readyz` answers 503 with these: the member
    /// is alive but not doing its job (not in the group, spool full, a sink with no endpoint up).
    public func readinessProblems() -> [String] {
        var problems: [String] = []
        if let signIn = source.tokenRefresher?.problem { problems.append(signIn) }
        if statistics.source.groupJoined.value == 0 {
            problems.append("source: no assignment from consumer group '\(configuration.source.groupID)' (joining, rebalancing or stopped)")
        }
        // The same condition as logbridge_spool_full and the README's troubleshooting table: above
        // the high watermark Kafka is paused as surely as when a write found no room. (Only the
        // latter was reported before, and whether a pause overshot into it was a matter of timing.)
        if spool.wantsSourcePaused {
            problems.append("spool: not accepting records (above spool.high_watermark until under low_watermark, spool.max_bytes reached, disk or map full, or writes failing); Kafka is paused")
        }
        for runner in sinks.runners {
            let health = runner.sink.endpointHealth
            if !health.isEmpty, !health.contains(where: \.healthy) {
                // Each endpoint's fault, where its requests got no answer: the reason an operator
                // acts on (a CA to trust, a URL scheme to fix), not just "ejected".
                let faults = Dictionary(runner.sink.endpointFaults.map { ($0.endpoint, $0.fault) }) { first, _ in first }
                let faulty = health.compactMap { faults[$0.endpoint]?.message }
                let ejected = health.filter { faults[$0.endpoint] == nil }.map(\.endpoint)
                var reasons = faulty
                if !ejected.isEmpty { reasons.append("\(ejected.joined(separator: ", ")) ejected after failures") }
                problems.append("sink \(runner.sink.name): no healthy endpoint (\(reasons.joined(separator: "; ")))")
            }
        }
        return problems
    }
}
