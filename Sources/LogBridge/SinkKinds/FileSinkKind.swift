import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks

/// `type: file`: newline-delimited records appended to a file, exactly once.
extension FileSinkConfiguration: ConfiguredSinkKind {
    public static let typeName = "file"
    static let keys = ["path", "encoding", "fsync", "follow_symlink"]
    static let isHTTP = false

    static func decode(_ s: SinkEntries, runner: inout SinkRunnerConfiguration) -> FileSinkConfiguration? {
        let r = s.reader
        guard let file = r.require(r.string(s["path"], "\(s.path).path"), s["path"], "\(s.path).path", parent: s.node) else { return nil }
        var configuration = FileSinkConfiguration(path: file, encoding: r.choice(s["encoding"], "\(s.path).encoding", as: RecordEncoding.self) ?? .envelope)
        if let fsync = r.bool(s["fsync"], "\(s.path).fsync") { configuration.fsync = fsync }
        if let follow = r.bool(s["follow_symlink"], "\(s.path).follow_symlink") { configuration.followSymlink = follow }
        return configuration
    }

    func describe(_ out: inout SinkDescription) {
        out.append("path: \(out.value("path", path))")
        out.append("encoding: \(encoding.rawValue)")
        out.append("fsync: \(fsync)")
        if followSymlink { out.append("follow_symlink: true") }
    }

    public func makeSink(_ context: SinkKindContext) throws -> any Sink {
        FileSink(name: context.name, configuration: self, statistics: context.statistics, logger: context.logger)
    }
}
