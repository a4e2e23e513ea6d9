/// Errors raised by the spool. Each says what happened and, where it helps, what to do next.
public enum SpoolError: Error, CustomStringConvertible, Sendable {
    case lmdb(code: Int32, message: String, operation: String)
    case lockedByAnotherProcess(path: String)
    case cannotCreateDirectory(path: String, errno: Int32)
    case incompatibleFormat(path: String, found: String)
    case closed

    static func lmdb(_ code: LMDBCode, operation: String) -> SpoolError {
        .lmdb(code: code.rawValue, message: code.description, operation: operation)
    }

    public var description: String {
        switch self {
        case .lmdb(_, let message, let operation):
            return "spool: \(operation) failed: \(message)"
        case .lockedByAnotherProcess(let path):
            return "spool: \(path) is in use by another logbridge process; stop it, or give this instance its own spool.path"
        case .cannotCreateDirectory(let path, let errno):
            return "spool: cannot create directory \(path): \(String(cString: strerror(errno))); check spool.path and its permissions"
        case .incompatibleFormat(let path, let found):
            return "spool: \(path) holds spool format \(found), which this version cannot read"
        case .closed:
            return "spool: already closed"
        }
    }

    /// Out of map or disk space: the caller should pause and retry, not fail.
    public var isOutOfSpace: Bool {
        if case .lmdb(let code, _, _) = self { return LMDBCode(rawValue: code).isOutOfSpace }
        return false
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
