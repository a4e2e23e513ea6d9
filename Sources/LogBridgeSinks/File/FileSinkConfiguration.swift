/// `type: file`: newline-delimited records appended to one file, exactly once across crashes.
public struct FileSinkConfiguration: Sendable, Equatable {
    /// The file; its directory is created if missing.
    public var path: String
    /// Default: `envelope`.
    public var encoding: RecordEncoding
    /// fsync each batch before its cursor moves. Turning it off trades the exactly-once guarantee
    /// after a power loss (not after a process crash) for speed. Default: true.
    public var fsync: Bool
    /// Open `path` even when it is a symbolic link. Off, a link where the file should be is refused
    /// (someone with write access to the directory could otherwise point the records at another
    /// file); paths under `/dev/` are always followed (`/dev/stdout` is a link). Default: false.
    public var followSymlink: Bool

    public init(path: String, encoding: RecordEncoding = .envelope, fsync: Bool = true, followSymlink: Bool = false) {
        self.path = path
        self.encoding = encoding
        self.fsync = fsync
        self.followSymlink = followSymlink
    }

    /// Whether the last component of `path` may be a symbolic link.
    var followsSymlink: Bool { followSymlink || path.hasPrefix("/dev/") }
}
