/// Errors raised by the spool. Each says what happened and, where it helps, what to do next.
public enum SpoolError: Error, CustomStringConvertible, Sendable {
    case lmdb(code: Int32, message: String, operation: String)
    case lockedByAnotherProcess(path: String)
    case cannotCreateDirectory(path: String, errno: Int32)
    case incompatibleFormat(path: String, found: String)
    /// Every record stores its topic as a 16-bit index into the spool's topic table, which never
    /// forgets a topic: `limit` distinct topics over the spool's life is all it can hold.
    case topicTableFull(topic: String, limit: Int)
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
        case .topicTableFull(let topic, let limit):
            return "spool: cannot spool records of topic \(topic): the spool has indexed \(limit) distinct topics, all it can hold; "
                + "subscribe to fewer topics (source.kafka.topics), or drain this spool and start a new spool.path"
        case .closed:
            return "spool: already closed"
        }
    }

    /// Out of map or disk space: the caller should pause and retry, not fail.
    public var isOutOfSpace: Bool {
        if case .lmdb(let code, _, _) = self { return LMDBCode(rawValue: code).isOutOfSpace }
        return false
    }

    /// ``isOutOfSpace``, or an I/O error while the spool's filesystem is (nearly) full.
    ///
    /// LMDB writes pages with `pwrite`; when the disk fills mid-write the call comes back short
    /// without `errno`, and LMDB reports EIO rather than ENOSPC (seen on a full tmpfs in the
    /// operations tests). An EIO with less than `slack` bytes left on the filesystem is treated as
    /// the full disk it almost certainly is.
    func isOutOfSpace(onFilesystemOf path: String, slack: Int = 16 << 20) -> Bool {
        if isOutOfSpace { return true }
        guard case .lmdb(let code, _, _) = self, code == EIO else { return false }
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return false }
        return Int(stats.f_bavail) * Int(stats.f_frsize) < slack
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
