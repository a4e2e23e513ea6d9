import LogBridgeCore
import NIOHTTP1
import Prometheus

/// The `Authorization: Bearer` check of the admin endpoint (`admin.token`).
enum BearerToken {
    /// Whether `headers` carry `Authorization: Bearer <expected>`. The scheme is matched without
    /// regard to case (RFC 9110); the token itself byte for byte, in constant time.
    static func isPresented(in headers: HTTPHeaders, expected: String) -> Bool {
        guard let value = headers.first(name: "Authorization") else { return false }
        let bytes = Array(value.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count, bytes[..<scheme.count].map({ $0 | 0x20 }) == scheme.map({ $0 | 0x20 }) else {
            return false
        }
        var presented = bytes[scheme.count...]
        while presented.first == UInt8(ascii: " ") { presented = presented.dropFirst() }
        while presented.last == UInt8(ascii: " ") { presented = presented.dropLast() }
        return constantTimeEqual(Array(presented), Array(expected.utf8))
    }

    /// Compares every byte of `expected` whatever `presented` holds, with no early exit, so the
    /// time taken says nothing about how much of a guess was right (it does depend on the token's
    /// length, which is not the secret).
    static func constantTimeEqual(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = UInt(bitPattern: presented.count ^ expected.count)
        for index in expected.indices {
            let byte = index < presented.count ? presented[index] : 0
            difference |= UInt(byte ^ expected[index])
        }
        return difference == 0
    }
}

/// The admin endpoint's own counters, in the gateway's registry (`/metrics`).
struct AdminStatistics: Sendable {
    /// Connections open now.
    let connections: LogBridgeCore.Gauge
    /// Connections closed at once because `admin.max_connections` were open.
    let connectionsRefused: LogBridgeCore.Counter
    /// Requests answered 401 (no or wrong token).
    let unauthorized: LogBridgeCore.Counter
    /// Requests or connections cut by a limit, by reason.
    let limited: [AdminConnectionGuard.Limit: LogBridgeCore.Counter]
    /// Scrapes of `/metrics` that waited for a rendering already under way instead of starting one.
    let scrapesShared: LogBridgeCore.Counter

    init(registry: PrometheusCollectorRegistry) {
        connections = LogBridgeCore.Gauge(registry.makeGauge(name: "logbridge_admin_connections", help: "Connections open to the admin endpoint."))
        connectionsRefused = LogBridgeCore.Counter(
            registry.makeCounter(
                name: "logbridge_admin_connections_refused_total",
                help: "Connections closed on accept because admin.max_connections were open."))
        unauthorized = LogBridgeCore.Counter(
            registry.makeCounter(
                name: "logbridge_admin_unauthorized_requests_total", help: "Admin requests refused with 401 (missing or wrong token)."))
        var limited: [AdminConnectionGuard.Limit: LogBridgeCore.Counter] = [:]
        for limit in [AdminConnectionGuard.Limit.idle, .requestTimeout, .requestTooLarge] {
            limited[limit] = LogBridgeCore.Counter(
                registry.makeCounter(
                    name: "logbridge_admin_connections_closed_total", labels: [("reason", limit.rawValue)],
                    help: "Admin connections closed by a limit: idle (admin.idle_timeout), timeout (admin.request_timeout), too_large (request over 16 KiB)."
                ))
        }
        self.limited = limited
        scrapesShared = LogBridgeCore.Counter(
            registry.makeCounter(
                name: "logbridge_admin_scrapes_shared_total",
                help: "Scrapes of /metrics answered with a rendering another scrape had started."))
    }
}
