/// `type: file`: newline-delimited records appended to one file, exactly once across crashes.
public struct FileSinkConfiguration: Sendable, Equatable {
    /// The file; its directory is created if missing.
    public var path: String
    /// Default: `envelope`.
    public var encoding: RecordEncoding
    /// fsync each batch before its cursor moves. Turning it off trades the exactly-once guarantee
    /// after a power loss (not after a process crash) for speed. Default: true.
    public var fsync: Bool

    public init(path: String, encoding: RecordEncoding = .envelope, fsync: Bool = true) {
        self.path = path
        self.encoding = encoding
        self.fsync = fsync
    }
}
