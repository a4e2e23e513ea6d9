import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server on 127.0.0.1 for the protocol fakes (Elasticsearch, HEC, Loki): it
/// hands each complete request to a responder and can also answer slowly or drop the connection,
/// the ways real servers fail.
public final class FakeHTTPServer: Sendable {
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
    public var url: String { "http://127.0.0.1:\(port)" }

    public init(responder: @escaping @Sendable (Request) async -> Reply) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(RequestHandler(responder: responder))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    public func shutdown() async {
        try? await channel.close()
    }
}

private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    // `@unchecked Sendable`: state is only touched on the channel's event loop.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: @Sendable (FakeHTTPServer.Request) async -> FakeHTTPServer.Reply
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(responder: @escaping @Sendable (FakeHTTPServer.Request) async -> FakeHTTPServer.Reply) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let request = FakeHTTPServer.Request(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
            RequestMonitor.shared.observe(request)
            let keepAlive = head.isKeepAlive
            let responder = self.responder
            let loop = context.eventLoop
            let bound = NIOLoopBound(context, eventLoop: loop)
            let future = loop.makeFutureWithTask { await responder(request) }
            future.whenSuccess { reply in
                let context = bound.value
                switch reply {
                case .drop:
                    context.close(promise: nil)
                case .respond(let status, let headers, let body):
                    self.write(context: context, status: status, headers: headers, body: body, keepAlive: keepAlive)
                case .trickle(let status, let body, let interval):
                    self.trickle(bound: bound, loop: loop, status: status, body: body, interval: interval)
                case .delayed(let delay, let status, let headers, let body):
                    loop.scheduleTask(in: .nanoseconds(Int64(delay.secondsDouble * 1e9))) {
                        self.write(context: bound.value, status: status, headers: headers, body: body, keepAlive: keepAlive)
                    }
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
