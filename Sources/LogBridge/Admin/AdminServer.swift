import Foundation
import LogBridgeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The operations endpoint on `admin.listen` (default `127.0.0.1:9180`):
/// - `GET /metrics`: Prometheus text (the gateway's registry, then the pipelines' metrics);
/// - `GET /healthz`: 200 while every loop turns (Kafka poll, spool writer, each sink), else 503;
/// - `GET /readyz`: 200 when the consumer group is joined, the spool is writable and every sink
///   has a healthy endpoint, else 503 with the reasons, one per line.
///
/// Scrapes run their collectors (LMDB reads, `/proc`) on NIO's thread pool, not the event loop.
public final class AdminServer: Service, Sendable {
    public let host: String
    public let requestedPort: Int
    private let logger: Logger
    private let gateway = Mutex<WeakGateway>(WeakGateway())
    private let bound = Mutex<BindState>(BindState())

    private struct WeakGateway { weak var value: Gateway? }
    private struct BindState {
        var port: Int?
        var done = false
        var waiters: [CheckedContinuation<Int?, Never>] = []
    }

    init(host: String, port: Int, logger: Logger) {
        self.host = host
        self.requestedPort = port
        self.logger = logger
    }

    func attach(_ gateway: Gateway) { self.gateway.withLock { $0.value = gateway } }

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
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(AdminHTTPHandler(server: self))
                    }
                }
                .bind(host: host, port: requestedPort).get()
        } catch {
            publish(port: nil)
            throw AdminError(message: "admin.listen \(host):\(requestedPort): cannot listen: \(error)")
        }
        let port = channel.localAddress?.port ?? requestedPort
        publish(port: port)
        logger.info("admin endpoint listening", metadata: ["address": "\(host):\(port)", "paths": "/metrics /healthz /readyz"])
        try? await gracefulShutdown()
        try? await channel.close()
    }

    /// Builds the response to `GET path`; runs on a thread-pool thread.
    func respond(to path: String) -> (status: HTTPResponseStatus, contentType: String, body: [UInt8]) {
        guard let gateway = gateway.withLock({ $0.value }) else {
            return (.serviceUnavailable, "text/plain; charset=utf-8", Array("gateway not running\n".utf8))
        }
        let text = "text/plain; charset=utf-8"
        switch path {
        case "/metrics":
            var body = gateway.statistics.exposition()
            body.append(contentsOf: gateway.pipelineMetrics.render().utf8)
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", body)
        case "/healthz":
            let problems = gateway.healthProblems()
            return problems.isEmpty ? (.ok, text, Array("ok\n".utf8)) : (.serviceUnavailable, text, Array((problems.joined(separator: "\n") + "\n").utf8))
        case "/readyz":
            let problems = gateway.readinessProblems()
            return problems.isEmpty ? (.ok, text, Array("ready\n".utf8)) : (.serviceUnavailable, text, Array((problems.joined(separator: "\n") + "\n").utf8))
        case "/":
            return (.ok, text, Array("logbridge admin endpoint: /metrics /healthz /readyz\n".utf8))
        default:
            return (.notFound, text, Array("not found: \(path)\n".utf8))
        }
    }
}

struct AdminError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// One request at a time per connection (HTTP/1.1 keep-alive, no pipelining needed by scrapers).
private final class AdminHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: AdminServer
    private let request = Mutex<(method: HTTPMethod, uri: String, keepAlive: Bool)?>(nil)

    init(server: AdminServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request.withLock { $0 = (head.method, head.uri, head.isKeepAlive) }
        case .body:
            break
        case .end:
            guard let (method, uri, keepAlive) = request.withLock({ $0 }) else { return }
            let path = String(uri.split(separator: "?", maxSplits: 1).first ?? "")
            let loop = context.eventLoop
            let bound = NIOLoopBound(context, eventLoop: loop)
            guard method == .GET || method == .HEAD else {
                write(bound.value, status: .methodNotAllowed, contentType: "text/plain", body: Array("GET only\n".utf8), keepAlive: keepAlive, head: false)
                return
            }
            let server = self.server
            NIOThreadPool.singleton.runIfActive(eventLoop: loop) { server.respond(to: path) }.whenComplete { result in
                let context = bound.value
                switch result {
                case .success(let response):
                    self.write(context, status: response.status, contentType: response.contentType, body: response.body, keepAlive: keepAlive, head: method == .HEAD)
                case .failure:
                    self.write(context, status: .internalServerError, contentType: "text/plain", body: [], keepAlive: false, head: false)
                }
            }
        }
    }

    private func write(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, contentType: String, body: [UInt8], keepAlive: Bool, head: Bool
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !head, !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
