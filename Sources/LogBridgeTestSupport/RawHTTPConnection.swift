import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to `127.0.0.1:port` that sends exactly the bytes it is given, for
/// tests that behave like a bad client: connect and say nothing, trickle headers, hold
/// connections open, pipeline, send oversized requests. HTTP clients cannot do these.
public final class RawHTTPConnection {
    private var fd: Int32

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// One HTTP/1.1 response.
    public struct Response: Sendable {
        public var status: Int
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: String
    }

    /// Connects; throws when the connection is refused.
    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw Failure(description: "connect to port \(port): \(reason)")
        }
    }

    deinit { close() }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Writes all of `text`; false when the peer has closed the connection (EPIPE, ECONNRESET).
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// A GET request with optional extra header lines (`Name: value`).
    @discardableResult
    public func get(_ path: String, headers: [String] = []) -> Bool {
        send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
    }

    /// Waits up to `timeout` for the peer to close; returns what arrived meanwhile and whether it closed.
    public func readUntilClosed(timeout: Duration) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            switch readSome(until: deadline) {
            case .data(let chunk): received += chunk
            case .closed: return (String(decoding: received, as: UTF8.self), true)
            case .timedOut: return (String(decoding: received, as: UTF8.self), false)
            }
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    /// Reads one response (headers, then a Content-Length body); nil if the connection closed or
    /// nothing complete arrived within `timeout`.
    public func readResponse(timeout: Duration = .seconds(5)) -> Response? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let response = takeResponse() { return response }
            guard case .data(let chunk) = readSome(until: deadline) else { return nil }
            pending += chunk
        }
    }

    private var pending: [UInt8] = []

    private func takeResponse() -> Response? {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = pending.indices.first(where: { pending[$0...].starts(with: separator) }) else { return nil }
        let head = String(decoding: pending[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = end + separator.count
        guard pending.count >= bodyStart + length else { return nil }
        let body = String(decoding: pending[bodyStart..<bodyStart + length], as: UTF8.self)
        pending.removeFirst(bodyStart + length)
        return Response(status: status, headers: headers, body: body)
    }

    private enum Read {
        case data([UInt8])
        case closed
        case timedOut
    }

    private func readSome(until deadline: ContinuousClock.Instant) -> Read {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { return .timedOut }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
        let ready = poll(&poller, 1, milliseconds)
        guard ready > 0 else { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
        // A reset (ECONNRESET) is a close too: the server closed with unread bytes in its buffer.
        if n <= 0 { return .closed }
        return .data(Array(buffer[..<n]))
    }
}
