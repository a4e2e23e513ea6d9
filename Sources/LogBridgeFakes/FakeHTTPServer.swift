import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A minimal HTTP/1.1 server on 127.0.0.1 for the protocol fakes (Elasticsearch, HEC, Loki): it
/// hands each complete request to a responder and can also answer slowly or drop the connection,
/// the ways real servers fail. The responder runs on the connection's event loop, not as a Swift
/// task: a test that loads the cooperative pool (the whole suite on two cores) must not delay the
/// fake's answers past its client's timeouts, which are event-loop timers and keep counting. With ``TLS`` it speaks HTTPS through a real NIOSSL handshake, and
/// can require a client certificate.
public final class FakeHTTPServer: Sendable {
    /// HTTPS: the server's certificate and key (PEM files) and, to require client certificates,
    /// the CA that must have issued them.
    public struct TLS: Sendable {
        public var certificateFile: String
        public var keyFile: String
        /// When set, the handshake fails unless the client presents a certificate this CA issued.
        public var clientCAFile: String?

        public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
        }
    }

    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var path: String { String(uri.split(separator: "?", maxSplits: 1).first ?? "") }

        public var query: [String: String] {
            guard let q = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
            var result: [String: String] = [:]
            for pair in q.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                result[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
            return result
        }
    }

    public enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)], body: [UInt8])
        /// Wait, then respond (a slow server; past the client's timeout this is a timeout).
        case delayed(Duration, status: Int, headers: [(String, String)], body: [UInt8])
        /// Close the connection without answering (a reset mid-request).
        case drop
        /// Send the head at once, then the body one byte per `interval` (a sink that answers
        /// slowly enough to hold a connection and a request slot for as long as it likes).
        case trickle(status: Int, body: [UInt8], interval: Duration)
    }

    private let channel: Channel
    public let port: Int
    /// Whether the server speaks HTTPS.
    public let isTLS: Bool
    public var url: String { "\(isTLS ? "https" : "http")://127.0.0.1:\(port)" }
    private let shared: Shared

    /// What the server and its connection initializer share.
    private final class Shared: Sendable {
        /// The TLS context new connections handshake with (``replaceCertificate(_:)`` swaps it).
        let context: Mutex<NIOSSLContext?>
        /// Open connections, so a certificate change can drop them as a restarted server would.
        let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

        init(context: NIOSSLContext?) { self.context = Mutex(context) }
    }

    /// - Parameters:
    ///   - port: the port to listen on; 0 picks a free one (a fixed one brings a stopped server
    ///     back where its clients expect it).
    ///   - tls: serve HTTPS with this certificate; nil: plain HTTP.
    /// - Throws: when the port cannot be bound or a TLS file cannot be read.
    public init(port: Int = 0, tls: TLS? = nil, responder: @escaping @Sendable (Request) -> Reply) async throws {
        let shared = Shared(context: try tls.map(Self.makeContext))
        self.shared = shared
        isTLS = tls != nil
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let key = ObjectIdentifier(channel)
                shared.connections.withLock { $0[key] = channel }
                channel.closeFuture.whenComplete { _ in shared.connections.withLock { $0[key] = nil } }
                return channel.eventLoop.makeCompletedFuture {
                    if let current = shared.context.withLock({ $0 }) {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: current))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(responder: responder))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        self.port = channel.localAddress!.port!
    }

    /// Serves a new certificate from now on and drops every open connection, as a server
    /// restarted with a renewed (or replaced) certificate does: clients handshake again.
    /// - Throws: when a TLS file cannot be read; the old certificate is kept then.
    public func replaceCertificate(_ tls: TLS) throws {
        precondition(isTLS, "a plain-HTTP fake has no certificate")
        let replacement = try Self.makeContext(tls)
        shared.context.withLock { $0 = replacement }
        for connection in shared.connections.withLock({ Array($0.values) }) { connection.close(promise: nil) }
    }

    public func shutdown() async {
        try? await channel.close()
    }

    private static func makeContext(_ tls: TLS) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyFile, format: .pem)))
        if let clientCA = tls.clientCAFile {
            // A server verifies no host name; this mode makes BoringSSL require a certificate.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .file(clientCA)
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    // `@unchecked Sendable`: state is only touched on the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: @Sendable (FakeHTTPServer.Request) -> FakeHTTPServer.Reply
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(responder: @escaping @Sendable (FakeHTTPServer.Request) -> FakeHTTPServer.Reply) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            // Sized once from Content-Length (bounded: a hostile length does not reserve memory
            // it never sends) instead of growing chunk by chunk through temporary arrays.
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > 0 {
                body.reserveCapacity(min(length, 64 << 20))
            }
        case .body(let buffer):
            buffer.withUnsafeReadableBytes { body.append(contentsOf: $0) }
        case .end:
            guard let head else { return }
            let request = FakeHTTPServer.Request(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            RequestMonitor.shared.observe(request)
            let keepAlive = head.isKeepAlive
            let loop = context.eventLoop
            let bound = NIOLoopBound(context, eventLoop: loop)
            switch responder(request) {
            case .drop:
                context.close(promise: nil)
            case .respond(let status, let headers, let body):
                write(context: context, status: status, headers: headers, body: body, keepAlive: keepAlive)
            case .trickle(let status, let body, let interval):
                trickle(bound: bound, loop: loop, status: status, body: body, interval: interval)
            case .delayed(let delay, let status, let headers, let body):
                loop.scheduleTask(in: .nanoseconds(Int64(delay.secondsDouble * 1e9))) {
                    self.write(context: bound.value, status: status, headers: headers, body: body, keepAlive: keepAlive)
                }
            }
        }
    }

    private func trickle(
        bound: NIOLoopBound<ChannelHandlerContext>, loop: EventLoop, status: Int, body: [UInt8], interval: Duration
    ) {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
        head.headers.add(name: "Content-Length", value: "\(body.count)")
        bound.value.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        func send(_ index: Int) {
            let context = bound.value
            guard context.channel.isActive else { return }
            guard index < body.count else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: [body[index]])))), promise: nil)
            loop.scheduleTask(in: .nanoseconds(Int64(interval.secondsDouble * 1e9))) { send(index + 1) }
        }
        send(0)
    }

    private func write(context: ChannelHandlerContext, status: Int, headers: [(String, String)], body: [UInt8], keepAlive: Bool) {
        var head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status))
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.replaceOrAdd(name: "Content-Length", value: "\(body.count)")
        head.headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

extension Duration {
    fileprivate var secondsDouble: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
