import Foundation
import LogBridgeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle
import Synchronization

/// What the admin endpoint serves: the gateway, or a stand-in in tests.
protocol AdminContent: AnyObject, Sendable {
    /// The Prometheus text of every metric; called on a thread-pool thread.
    func metricsExposition() -> [UInt8]
    /// Why the process is unhealthy; empty when healthy.
    func healthProblems() -> [String]
    /// Why the gateway is not ready; empty when ready.
    func readinessProblems() -> [String]
}

/// The operations endpoint on `admin.listen` (default `127.0.0.1:9180`):
/// - `GET /metrics`: Prometheus text (the gateway's one registry, pipelines' metrics included);
/// - `GET /healthz`: 200 while every loop turns (Kafka poll, spool writer, each sink), else 503;
/// - `GET /readyz`: 200 when the consumer group is joined, the spool is writable and every sink
///   has a healthy endpoint, else 503 with the reasons, one per line.
///
/// With `admin.token` set, every path but `/healthz` and `/readyz` needs `Authorization: Bearer
/// TOKEN` (401 otherwise). The two probes stay open because the kubelet cannot send a token, but
/// without it they answer with their status alone: the reasons (group, sink and endpoint names)
/// go only to a caller with the token.
///
/// Limits, so that no client can exhaust the process through this port: `admin.max_connections`
/// (one more is closed on accept), `admin.idle_timeout` and `admin.request_timeout` (see
/// ``AdminConnectionGuard``), requests of at most 16 KiB and without a body, GET and HEAD only,
/// and one rendering of `/metrics` at a time (``SharedRendering``). Scrapes run their collectors
/// (LMDB reads, `/proc`) on NIO's thread pool, not the event loop.
public final class AdminServer: Service, Sendable {
    public let host: String
    public let requestedPort: Int
    /// Requests are headers only: this is plenty for a scraper, and bounds what a connection buffers.
    static let maxRequestBytes = 16 << 10
    static let maxURIBytes = 2048
    private let logger: Logger
    private let settings: Mutex<AdminConfiguration>
    private let content = Mutex<WeakContent>(WeakContent())
    private let bound = Mutex<BindState>(BindState())
    private let openConnections = Atomic<Int>(0)
    let statistics: AdminStatistics
    let rendering = SharedRendering()

    private struct WeakContent { weak var value: (any AdminContent)? }
    private struct BindState {
        var port: Int?
        var done = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
    }

    init(
        host: String, port: Int, configuration: AdminConfiguration, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        logger: Logger
    ) {
        self.host = host
        self.requestedPort = port
        self.logger = logger
        self.settings = Mutex(configuration)
        self.statistics = AdminStatistics(registry: registry)
    }

    func attach(_ content: any AdminContent) { self.content.withLock { $0.value = content } }

    /// Applies a reloaded `admin:` (all but `listen`): the token at once, the limits to the
    /// connections accepted from now on.
    func apply(_ configuration: AdminConfiguration) { settings.withLock { $0 = configuration } }

    /// The port the endpoint listens on once bound (useful with port 0); nil if binding failed.
    public func boundPort() async -> Int? {
        await withCheckedContinuation { continuation in
            let ready = bound.withLock { state -> Int?? in
                if state.done { return .some(state.port) }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func publish(port: Int?) {
        let waiters = bound.withLock { state in
            state.port = port
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture { try self.setUp(channel) }
                }
                .bind(host: host, port: requestedPort).get()
        } catch {
            publish(port: nil)
            throw AdminError(message: "admin.listen \(host):\(requestedPort): cannot listen: \(error)")
        }
        let port = channel.localAddress?.port ?? requestedPort
        publish(port: port)
        let protected = settings.withLock { $0.token != nil }
        logger.info(
            "admin endpoint listening",
            metadata: [
                "address": "\(host):\(port)", "paths": "/metrics /healthz /readyz",
                "token": protected ? "required except on /healthz and /readyz" : "none",
            ])
        try? await gracefulShutdown()
        try? await channel.close()
    }

    /// A new connection: refused beyond the cap, otherwise the guard, HTTP/1.1 and the handler.
    private func setUp(_ channel: any Channel) throws {
        let current = settings.withLock { $0 }
        let operations = channel.pipeline.syncOperations
        let open = openConnections.add(1, ordering: .relaxed).newValue
        guard open <= current.maxConnections else {
            openConnections.subtract(1, ordering: .relaxed)
            statistics.connectionsRefused.add(1)
            try operations.addHandler(AdminConnectionRefusal())
            return
        }
        statistics.connections.add(1)
        channel.closeFuture.whenComplete { [self] _ in
            openConnections.subtract(1, ordering: .relaxed)
            statistics.connections.add(-1)
        }
        let limited = statistics.limited
        let connectionGuard = AdminConnectionGuard(
            idleTimeout: current.idleTimeout, requestTimeout: current.requestTimeout, maxRequestBytes: Self.maxRequestBytes,
            onLimit: { limited[$0]?.add(1) })
        try operations.addHandler(connectionGuard)
        try operations.configureHTTPServerPipeline(withErrorHandling: true)
        try operations.addHandler(AdminHTTPHandler(server: self, connectionGuard: connectionGuard))
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var contentType = "text/plain; charset=utf-8"
        var body: [UInt8]
        var headers: [(String, String)] = []

        init(_ status: HTTPResponseStatus, _ text: String) {
            self.status = status
            self.body = Array(text.utf8)
        }

        init(metrics: [UInt8]) {
            status = .ok
            contentType = "text/plain; version=0.0.4; charset=utf-8"
            body = metrics
        }
    }

    /// The answer to `GET path`, on `loop`.
    func respond(to path: String, headers: HTTPHeaders, on loop: any EventLoop) -> EventLoopFuture<Response> {
        let isProbe = path == "/healthz" || path == "/readyz"
        let token = settings.withLock { $0.token }
        let authorized = token.map { BearerToken.isPresented(in: headers, expected: $0) } ?? true
        if !authorized && !isProbe {
            statistics.unauthorized.add(1)
            var response = Response(.unauthorized, "a bearer token is required (admin.token)\n")
            response.headers = [("WWW-Authenticate", #"Bearer realm="logbridge""#)]
            return loop.makeSucceededFuture(response)
        }
        guard let content = content.withLock({ $0.value }) else {
            return loop.makeSucceededFuture(Response(.serviceUnavailable, "gateway not running\n"))
        }
        switch path {
        case "/metrics":
            let (future, shared) = rendering.render(on: loop) { content.metricsExposition() }
            if shared { statistics.scrapesShared.add(1) }
            return future.map { Response(metrics: $0) }
        case "/healthz", "/readyz":
            let health = path == "/healthz"
            return NIOThreadPool.singleton.runIfActive(eventLoop: loop) {
                health ? content.healthProblems() : content.readinessProblems()
            }.map { problems in
                if problems.isEmpty { return Response(.ok, health ? "ok\n" : "ready\n") }
                // The reasons name the consumer group, sinks and endpoints: only for the token holder.
                guard authorized else { return Response(.serviceUnavailable, health ? "unhealthy\n" : "not ready\n") }
                return Response(.serviceUnavailable, problems.joined(separator: "\n") + "\n")
            }
        case "/":
            return loop.makeSucceededFuture(Response(.ok, "logbridge admin endpoint: /metrics /healthz /readyz\n"))
        default:
            return loop.makeSucceededFuture(Response(.notFound, "not found: \(path)\n"))
        }
    }
}

struct AdminError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
