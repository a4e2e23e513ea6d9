import Logging
import Synchronization

/// Keeps each log line (message and metadata, `key=value` sorted) for assertions, e.g. that a
/// secret never reaches the logs.
public final class LogRecorder: LogHandler, @unchecked Sendable {
    // `@unchecked Sendable`: `lines` is guarded by its mutex; the rest is set once by the logger.
    private let lines = Mutex<[String]>([])
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace
    public var messages: [String] { lines.withLock { $0 } }

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String,
        line: UInt
    ) {
        let all = self.metadata.merging(metadata ?? [:]) { $1 }
        lines.withLock { $0.append("\(message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
    }
}
