import Foundation
import LogBridgeCore

import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Appends records to a file, exactly once across crashes.
///
/// The file's length (and identity) is committed with the sink's cursor in one spool transaction.
/// On start the file is cut back to that length, so bytes written after the last commit (a crash
/// between the write and the commit) are removed and rewritten from the spool, never duplicated.
/// If the file was rotated away or truncated by someone else, writing continues at its end.
/// A path that is not a regular file (`/dev/null`, `/dev/stdout`, a FIFO) is written sequentially,
/// without fsync or truncation: at-least-once, like the console sink.
///
/// The file is opened without following a symbolic link in its last component (unless
/// `follow_symlink`, or under `/dev/`), each time: at start and when a reload rebuilds the sink.
/// Directories it creates are 0750, the file 0640 (less if the umask says so).
public final class FileSink: Sink, @unchecked Sendable {
    // `@unchecked Sendable`: `descriptor`, `length` and `identity` are only touched on `io`, one job
    // at a time.
    public let name: String
    private let configuration: FileSinkConfiguration
    private let logger: Logger
    private let io: DedicatedThread
    private var descriptor: Int32 = -1
    private var length: UInt64 = 0
    private var identity = FileIdentity(device: 0, inode: 0)
    private var isRegularFile = true

    /// Records whose invalid UTF-8 the envelope replaced (`logbridge_sink_records_utf8_repaired_total`).
    private let repaired: Counter?

    public init(name: String, configuration: FileSinkConfiguration, statistics: SinkStatistics? = nil, logger: Logger) {
        repaired = statistics?.utf8Repaired
        self.name = name
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: LogKey.sink] = "\(name)"
        logger[metadataKey: LogKey.sinkPath] = "\(configuration.path)"
        self.logger = logger
        io = DedicatedThread(name: "lb-file-\(name)")
    }

    public func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError) {
        do {
            try await io.run { try self.openFile(restoring: FileCheckpointState(decoding: checkpoint.state)) }
        } catch {
            throw error as? SinkError ?? SinkError(sink: name, message: "\(error)")
        }
    }

    /// The envelope's `timestamp` is found in the pass that validates each record
    /// (``RecordEncoding``), not in a scan of its own on the reader thread.
    public var resolvesEventTime: Bool { true }

    public func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery {
        do {
            return SinkDelivery(state: try await io.run { try self.append(batch) })
        } catch {
            throw error as? SinkError ?? SinkError(sink: name, message: "\(error)")
        }
    }

    public func close() async {
        _ = try? await io.run {
            if self.descriptor >= 0 { Glibc.close(self.descriptor) }
            self.descriptor = -1
        }
        io.shutdown()
    }

    // MARK: On the I/O thread

    private func openFile(restoring saved: FileCheckpointState?) throws(SinkError) {
        let directory = (configuration.path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        }
        let noFollow = configuration.followsSymlink ? 0 : O_NOFOLLOW
        let fd = Glibc.open(configuration.path, O_WRONLY | O_CREAT | O_CLOEXEC | noFollow, 0o640)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP, noFollow != 0 {
                throw SinkError(
                    sink: name,
                    message: "\(configuration.path) is a symbolic link, which the file sink does not follow (a link planted "
                        + "there would send the records elsewhere): point path at the file itself, or set follow_symlink: true "
                        + "if the link is yours")
            }
            throw failure("cannot open the file", errno: code)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            Glibc.close(fd)
            throw failure("cannot stat the file", errno: errno)
        }
        let current = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let size = UInt64(info.st_size)
        isRegularFile = info.st_mode & S_IFMT == S_IFREG
        guard isRegularFile else {
            descriptor = fd
            length = 0
            return
        }
        if let saved, saved.identity == current, size >= saved.length {
            if size > saved.length {
                logger.info(
                    "cutting the file back to its last committed length; the records after it are rewritten from the spool",
                    metadata: ["bytes_removed": "\(size - saved.length)"])
                guard ftruncate(fd, off_t(saved.length)) == 0 else {
                    Glibc.close(fd)
                    throw failure("cannot truncate the file", errno: errno)
                }
            }
            length = saved.length
        } else {
            if saved != nil {
                logger.warning("the file was rotated or truncated by another process; appending at its end")
            }
            length = size
        }
        identity = current
        descriptor = fd
    }

    private func append(_ batch: RecordBatch) throws(SinkError) -> [UInt8] {
        guard descriptor >= 0 else { throw SinkError(sink: name, message: "file is not open") }
        var repairedRecords = 0
        let bytes = configuration.encoding.encode(batch, repairedRecords: &repairedRecords)
        repaired?.add(repairedRecords)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                isRegularFile
                    ? pwrite(descriptor, buffer.baseAddress! + written, buffer.count - written, off_t(length) + off_t(written))
                    : write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                // Nothing after `length` counts until committed; the next open cuts it away.
                throw failure("write failed", errno: errno)
            }
            written += n
        }
        guard isRegularFile else { return [] }
        if configuration.fsync, fdatasync(descriptor) != 0 {
            throw failure("fdatasync failed", errno: errno)
        }
        length += UInt64(written)
        return FileCheckpointState(identity: identity, length: length).encoded()
    }

    private func failure(_ what: String, errno code: Int32) -> SinkError {
        SinkError(sink: name, message: "\(what): \(configuration.path): \(String(cString: strerror(code)))")
    }
}

struct FileIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
}

/// The file sink's state in its spool checkpoint: which file, and how much of it is committed.
struct FileCheckpointState: Equatable {
    var identity: FileIdentity
    var length: UInt64

    init(identity: FileIdentity, length: UInt64) {
        self.identity = identity
        self.length = length
    }

    init?(decoding bytes: [UInt8]) {
        guard bytes.count == 24 else { return nil }
        let values = bytes.withUnsafeBytes { raw in
            (0..<3).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        }
        identity = FileIdentity(device: values[0], inode: values[1])
        length = values[2]
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        for value in [identity.device, identity.inode, length] {
            withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }
}
