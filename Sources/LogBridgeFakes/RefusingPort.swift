import Foundation
import Synchronization

/// A local TCP port that refuses every connection for as long as this value holds it.
///
/// Tests of "connection refused" once shut a server down and used its port, but in a parallel run
/// another test's server could be given that port in between and answer (a fresh-clone CI run
/// saw `remoteConnectionClosed` where it expected a refusal). A socket that is bound but never
/// listens keeps the port out of the kernel's hands, and Linux answers a connect to it with a reset,
/// which clients report as refused.
public final class RefusingPort: Sendable {
    public let port: Int
    /// The socket, or -1 once released.
    private let descriptor: Mutex<Int32>

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        descriptor = Mutex(fd)
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// `http://127.0.0.1:<port>`.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Gives the port back, for a test that brings a server up on it next.
    public func release() {
        descriptor.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }

    deinit { release() }
}
