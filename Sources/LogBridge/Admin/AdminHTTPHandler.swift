import NIOCore
import NIOHTTP1

/// One request at a time per connection (NIO's pipelining handler holds back the next one until
/// the response is written). Requests that cannot be a scrape or a probe are refused on their
/// head, before anything reads a body: a method other than GET or HEAD (405), a body (413), a
/// URI over 2 KiB (414); the connection is then closed.
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: AdminServer
    private let connectionGuard: AdminConnectionGuard
    private var request: HTTPRequestHead?
    /// The request was refused on its head; the connection is closing.
    private var refused = false

    init(server: AdminServer, connectionGuard: AdminConnectionGuard) {
        self.server = server
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let refusal = Self.refusal(of: head) {
                refused = true
                write(context, refusal, keepAlive: false, head: false)
            } else {
                request = head
            }
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            connectionGuard.requestReceived()
            answer(head, context: context)
        }
    }

    static func refusal(of head: HTTPRequestHead) -> AdminServer.Response? {
        guard head.method == .GET || head.method == .HEAD else {
            var response = AdminServer.Response(.methodNotAllowed, "GET or HEAD only\n")
            response.headers = [("Allow", "GET, HEAD")]
            return response
        }
        let length = head.headers.first(name: "Content-Length").map { Int($0) ?? 1 } ?? 0
        if length != 0 || head.headers.contains(name: "Transfer-Encoding") {
            return AdminServer.Response(.payloadTooLarge, "requests to this endpoint have no body\n")
        }
        if head.uri.utf8.count > AdminServer.maxURIBytes {
            return AdminServer.Response(.uriTooLong, "URI over \(AdminServer.maxURIBytes) bytes\n")
        }
        return nil
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        let loop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
        let keepAlive = head.isKeepAlive
        let isHead = head.method == .HEAD
        server.respond(to: path, headers: head.headers, on: loop).whenComplete { result in
            let (handler, context) = bound.value
            switch result {
            case .success(let response):
                handler.write(context, response, keepAlive: keepAlive, head: isHead)
            case .failure:
                handler.write(context, AdminServer.Response(.internalServerError, ""), keepAlive: false, head: false)
            }
        }
    }

    private func write(_ context: ChannelHandlerContext, _ response: AdminServer.Response, keepAlive: Bool, head: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: "\(response.body.count)")
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if !head, !response.body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        let connectionGuard = NIOLoopBound(self.connectionGuard, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { result in
            if keepAlive, case .success = result {
                connectionGuard.value.responseSent()
            } else {
                channel.close(promise: nil)
            }
        }
    }
}
