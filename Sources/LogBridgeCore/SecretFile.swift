#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a small file holding a secret: the file behind a `${file:/path}` reference, or the
/// federated token AKS workload identity projects (Entra ID sign-in): a regular file of at most
/// ``maxBytes``.
///
/// `check`, `run`, every SIGHUP reload and every token refresh read these files, so a path must
/// not be able to hang or exhaust the process: reading a whole path as Foundation does would wait forever on a
/// FIFO with no writer and never finish on `/dev/zero` or `/dev/urandom`. The file is opened
/// non-blocking (a FIFO opens at once), `fstat` on the open descriptor decides (no race with a
/// swapped path), and at most one byte over the limit is ever read. Symbolic links are followed:
/// Kubernetes mounts each Secret key as a link into its `..data` directory.
public enum SecretFile {
    /// Secrets, tokens and connection strings are far smaller; anything bigger is a mistake.
    public static let maxBytes = 64 << 10

    public struct Contents: Sendable {
        public var bytes: [UInt8]
        /// Permission bits (`0o644`).
        public var mode: UInt32
        /// Others may read it: a secret any local user can read is worth a warning.
        public var worldReadable: Bool { mode & 0o004 != 0 }
        public var modeText: String {
            let octal = String(mode & 0o7777, radix: 8)
            return String(repeating: "0", count: max(0, 4 - octal.count)) + octal
        }
    }

    /// Why the file was refused; the text never includes any of its content.
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func read(_ path: String, limit: Int = maxBytes) -> Result<Contents, Problem> {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: return .failure(Problem(description: "no such file"))
            case EACCES, EPERM: return .failure(Problem(description: "permission denied"))
            default: return .failure(Problem(description: String(cString: strerror(code))))
            }
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            return .failure(Problem(description: String(cString: strerror(errno))))
        }
        let type = UInt32(status.st_mode) & UInt32(S_IFMT)
        guard type == UInt32(S_IFREG) else {
            let what =
                switch type {
                case UInt32(S_IFDIR): "a directory"
                case UInt32(S_IFIFO): "a FIFO"
                case UInt32(S_IFCHR), UInt32(S_IFBLK): "a device"
                case UInt32(S_IFSOCK): "a socket"
                default: "not a regular file"
                }
            return .failure(Problem(description: "it is \(what); regular files only"))
        }
        let tooLarge = Problem(description: "larger than \(limit / 1024) KiB; it should hold a secret or a short value")
        guard Int(status.st_size) <= limit else { return .failure(tooLarge) }
        // st_size is only a hint (the file may grow, /proc files say 0): read up to one byte past
        // the limit to tell.
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { buffer in
                readDescriptor(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Problem(description: String(cString: strerror(errno))))
            }
            count += n
        }
        guard count <= limit else { return .failure(tooLarge) }
        bytes.removeSubrange(count...)
        return .success(Contents(bytes: bytes, mode: UInt32(status.st_mode) & 0o7777))
    }
}

/// `read(2)`, named apart from ``SecretFile/read(_:limit:)``.
private func readDescriptor(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
