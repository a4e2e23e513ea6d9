import NIOCore

/// First handler of an admin connection, on the raw bytes: it enforces the limits a client could
/// otherwise use to hold a connection slot (see `admin.max_connections`) for ever.
///
/// - no request for `idleTimeout` (after connecting or after a response): closed;
/// - a request started but not whole `requestTimeout` after its first byte (headers trickled in
///   one byte at a time): 408, closed;
/// - a request over `maxRequestBytes` (requests carry no body here, so this bounds the headers):
///   431, closed.
///
/// ``AdminHTTPHandler`` tells it when a request is complete and when its response is written.
/// Everything runs on the connection's event loop.
final class AdminConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Limit: String {
        case idle, requestTimeout = "timeout", requestTooLarge = "too_large"
    }

    private enum State {
        case waiting  // for the first byte of a request
        case reading  // a request has started
        case answering  // the request is complete; the server is working on it
    }

    private let idleTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    private let maxRequestBytes: Int
    private let onLimit: @Sendable (Limit) -> Void
    private var state = State.waiting
    private var requestBytes = 0
    private var timer: Scheduled<Void>?
    /// Bumped whenever the timer changes, so a timer that fires after being replaced does nothing.
    private var generation = 0
    private var context: ChannelHandlerContext?
    private var closing = false

    init(idleTimeout: Duration, requestTimeout: Duration, maxRequestBytes: Int, onLimit: @escaping @Sendable (Limit) -> Void) {
        self.idleTimeout = TimeAmount(idleTimeout)
        self.requestTimeout = TimeAmount(requestTimeout)
        self.maxRequestBytes = maxRequestBytes
        self.onLimit = onLimit
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(.idle) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(.idle)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let bytes = unwrapInboundIn(data).readableBytes
        switch state {
        case .waiting:
            state = .reading
            requestBytes = bytes
            arm(.requestTimeout)
        case .reading, .answering:
            // While answering, these are the next (pipelined) request's bytes; they count for it.
            requestBytes += bytes
        }
        if requestBytes > maxRequestBytes {
            refuse(.requestTooLarge, answer: state != .answering)
            return
        }
        context.fireChannelRead(data)
    }

    /// The HTTP handler has the whole request: no timer runs while the server answers it.
    func requestReceived() {
        state = .answering
        requestBytes = 0
        cancelTimer()
    }

    /// The response is written and the connection stays open for the next request.
    func responseSent() {
        guard state == .answering else { return }
        state = .waiting
        arm(.idle)
    }

    private func arm(_ limit: Limit) {
        cancelTimer()
        guard let context else { return }
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let armed = generation
        timer = loop.scheduleTask(in: limit == .idle ? idleTimeout : requestTimeout) {
            let handler = bound.value
            guard handler.generation == armed else { return }
            handler.refuse(limit)
        }
    }

    private func cancelTimer() {
        generation &+= 1
        timer?.cancel()
        timer = nil
    }

    /// Closes the connection, after a status line when `answer` and the limit has one. No answer
    /// while a response is under way: the two would interleave on the socket.
    private func refuse(_ limit: Limit, answer: Bool = true) {
        guard !closing, let context else { return }
        closing = true
        cancelTimer()
        onLimit(limit)
        let status: String? =
            switch limit {
            case .idle: nil
            case .requestTimeout: "408 Request Timeout"
            case .requestTooLarge: "431 Request Header Fields Too Large"
            }
        guard let status, answer else {
            context.close(promise: nil)
            return
        }
        // Written below the HTTP encoder, straight to the socket.
        let text = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        let channel = context.channel
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// Closes a connection as soon as it is accepted: the one beyond `admin.max_connections`.
final class AdminConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
