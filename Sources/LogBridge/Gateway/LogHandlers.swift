import Foundation
import LogBridgeCore
import Logging

/// One JSON object per line on standard error: `{"time":…,"level":…,"label":…,"message":…,…metadata}`.
/// swift-log ships only a text handler; this one is small enough to keep here.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var out: [UInt8] = []
        out.append(contentsOf: Array(#"{"time":""#.utf8))
        Timestamp.appendRFC3339(millis: Int64(Date().timeIntervalSince1970 * 1000), to: &out)
        out.append(contentsOf: Array(#"","level":"#.utf8))
        JSONBytes.appendString(event.level.rawValue, to: &out)
        out.append(contentsOf: Array(#","label":"#.utf8))
        JSONBytes.appendString(label, to: &out)
        out.append(contentsOf: Array(#","message":"#.utf8))
        JSONBytes.appendString(event.message.description, to: &out)
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            out.append(UInt8(ascii: ","))
            JSONBytes.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONBytes.appendString(value.description, to: &out)
        }
        out.append(contentsOf: Array("}\n".utf8))
        try? FileHandle.standardError.write(contentsOf: out)
    }
}

/// Sets up swift-log for the process: text or JSON lines on standard error at `level`, which a
/// configuration reload can change later (``LogLevelControl``).
public func bootstrapLogging(_ configuration: LogConfiguration) {
    LogLevelControl.set(configuration.level)
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler
        switch configuration.format {
        case .text: handler = StreamLogHandler.standardError(label: label)
        case .json: handler = JSONLogHandler(label: label)
        }
        handler.logLevel = .trace
        return ReloadableLevelHandler(inner: handler)
    }
}

/// Wraps a handler so its level is the process-wide ``LogLevelControl`` level, read at each call.
struct ReloadableLevelHandler: LogHandler {
    var inner: any LogHandler

    var logLevel: Logger.Level {
        get { LogLevelControl.current }
        set {}  // The level is process-wide: set it through LogLevelControl.
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) { inner.log(event: event) }
}
