/// `admin:`, the operations endpoint (`/metrics`, `/healthz`, `/readyz`).
///
/// The limits keep a client that connects and stalls, or many clients at once, from tying up
/// the endpoint or the process: see ``AdminServer`` for how each is enforced.
public struct AdminConfiguration: Sendable, Equatable {
    /// `host:port` of the metrics and health endpoint, or `off`. Default: `127.0.0.1:9180`.
    public var listen: String
    /// `Authorization: Bearer` token required on every path but `/healthz` and `/readyz`; nil
    /// leaves the endpoint open to whoever can reach it. A secret: read it with `${file:}`.
    /// Default: nil.
    public var token: String?
    /// Connections open at once; one more is closed as soon as it is accepted. Default: 32.
    public var maxConnections: Int
    /// A connection that sends no request for this long is closed. Default: 30 s.
    public var idleTimeout: Duration
    /// A request must arrive whole within this from its first byte, or the connection gets a 408
    /// and is closed, so a client trickling its headers cannot hold a slot. Default: 10 s.
    public var requestTimeout: Duration

    public init(
        listen: String = "127.0.0.1:9180", token: String? = nil, maxConnections: Int = 32, idleTimeout: Duration = .seconds(30),
        requestTimeout: Duration = .seconds(10)
    ) {
        self.listen = listen
        self.token = token
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
    }

    /// The address to bind; nil when the endpoint is `off` or `listen` is not `host:port` with a
    /// port from 0 to 65535 (a larger number would not fit the socket address).
    public var address: (host: String, port: Int)? {
        guard listen != "off", let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            return nil
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        // Credentials have no place in a listen address (and would show in `check` and the logs).
        guard !host.contains("@") else { return nil }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

// The token must not reach a log line or an error through string interpolation or `dump`.
extension AdminConfiguration: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "AdminConfiguration(listen: \(listen), token: \(token == nil ? "none" : "********"), maxConnections: \(maxConnections), "
            + "idleTimeout: \(idleTimeout), requestTimeout: \(requestTimeout))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "listen": listen, "token": token == nil ? "none" : "********", "maxConnections": maxConnections,
                "idleTimeout": idleTimeout, "requestTimeout": requestTimeout,
            ])
    }
}
