import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks

/// `type: console`: records on standard output, for trying pipelines out.
public struct ConsoleSinkKind: ConfiguredSinkKind, Equatable {
    public static let typeName = "console"
    static let keys = ["encoding"]
    static let isHTTP = false

    public var encoding: RecordEncoding

    public init(encoding: RecordEncoding = .envelope) {
        self.encoding = encoding
    }

    static func decode(_ s: SinkEntries, runner: inout SinkRunnerConfiguration) -> ConsoleSinkKind? {
        ConsoleSinkKind(encoding: s.reader.choice(s["encoding"], "\(s.path).encoding", as: RecordEncoding.self) ?? .envelope)
    }

    func describe(_ out: inout SinkDescription) {
        out.append("encoding: \(encoding.rawValue)")
    }

    public func makeSink(_ context: SinkKindContext) throws -> any Sink {
        ConsoleSink(name: context.name, encoding: encoding)
    }
}
