import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks
import LogBridgeSpool
import Logging
import Yams

/// One kind of sink (`sinks.NAME.type`).
///
/// Each kind's file in this folder holds all the application knows of it: the keys it takes, how
/// they are read and shown by `logbridge check`, and how its sink is built. ``SinkKinds/all``
/// lists the kinds, so adding one is a file here and a line there.
public protocol SinkKind: Sendable {
    /// `type:` in the configuration.
    static var typeName: String { get }
    /// The sink that delivers to this kind's destination.
    func makeSink(_ context: SinkKindContext) throws -> any Sink
    /// The ceiling of `concurrency: adaptive`; nil when the sink runs at a fixed concurrency.
    var adaptiveConcurrencyMaximum: Int? { get }
}

extension SinkKind {
    public var typeName: String { Self.typeName }
    public var adaptiveConcurrencyMaximum: Int? { nil }
}

/// What a kind's sink is built with.
public struct SinkKindContext: Sendable {
    /// The key under `sinks:`.
    public var name: String
    /// Where the sink keeps notes beside its cursor (``SinkNotebook``).
    public var spool: Spool
    public var statistics: SinkStatistics
    public var logger: Logger

    public var notebook: SinkNotebook { SinkNotebook(spool: spool, sink: name) }
}

/// How a kind is read from YAML and shown again (the reader is this module's own).
protocol ConfiguredSinkKind: SinkKind {
    /// Keys beside `type`, the runner's and, for HTTP kinds, ``SinkKinds/httpKeys``.
    static var keys: [String] { get }
    /// Takes the HTTP keys and the HTTP runner defaults (a flush interval, a few requests in flight).
    static var isHTTP: Bool { get }
    /// Where an HTTP kind's credentials go, for a message about an endpoint URL that holds them.
    static func credentialKeys(_ path: String) -> String
    /// Reads the kind's keys; nil when one was wrong (reported on the reader).
    static func decode(_ entries: SinkEntries, runner: inout SinkRunnerConfiguration) -> Self?
    /// The kind's lines of the effective configuration, after `type:`.
    func describe(_ out: inout SinkDescription)
}

extension ConfiguredSinkKind {
    static func credentialKeys(_ path: String) -> String { "\(path).user and \(path).password" }

}

/// The kinds this version supports.
enum SinkKinds {
    static let all: [any ConfiguredSinkKind.Type] = [
        FileSinkConfiguration.self, ConsoleSinkKind.self, ElasticsearchSinkConfiguration.self,
        SplunkHECSinkConfiguration.self, LokiSinkConfiguration.self,
    ]

    static func named(_ type: String) -> (any ConfiguredSinkKind.Type)? { all.first { $0.typeName == type } }

    /// Keys every sink takes: the runner's.
    static let runnerKeys = ["batch_size", "max_batch_bytes", "interval", "max_backoff", "pipeline", "backlog"]
    /// Keys every HTTP sink takes.
    static let httpKeys = [
        "endpoints", "compression", "tls", "request_timeout", "concurrency", "max_concurrency", "user", "password",
        "eject_after_failures", "ejection_time",
    ]

    /// Every key a kind takes.
    static func allowedKeys(_ kind: any ConfiguredSinkKind.Type) -> [String] {
        ["type"] + kind.keys + (kind.isHTTP ? httpKeys : []) + runnerKeys
    }
}

/// One `sinks.NAME` mapping being read.
struct SinkEntries {
    /// `sinks.NAME`, for messages.
    var path: String
    var node: Node
    var values: [String: Node]
    var reader: ConfigReader
    /// The HTTP keys, read before the kind's own (HTTP kinds only).
    var http: HTTPSinkSettings?

    subscript(key: String) -> Node? { values[key] }
}

/// The lines of one sink in `logbridge check`'s effective configuration, secrets masked.
struct SinkDescription {
    /// `sinks.NAME`.
    var prefix: String
    var secretPaths: Set<String>
    var lines: [String] = []

    mutating func append(_ line: String) { lines.append("    " + line) }

    /// A value that may hold a secret (from `${file:}` or a secret key): masked if it does.
    func value(_ key: String, _ text: String) -> String {
        secretPaths.contains("\(prefix).\(key)") ? LoadedConfiguration.mask : Self.quote(text)
    }

    static func quote(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "._-/:".contains($0) } && !text.isEmpty
        if plain && !["true", "false", "yes", "no", "null", "on", "off"].contains(text.lowercased()) { return text }
        var out: [UInt8] = []
        JSONBytes.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The keys every HTTP sink shares.
    mutating func describeHTTP(_ http: HTTPSinkSettings, showAuthentication: Bool = true) {
        let mask = LoadedConfiguration.mask
        switch http.authentication {
        case _ where !showAuthentication: break
        case .none: break
        case .basic(let user, _):
            append("user: \(Self.quote(user))")
            append("password: \(mask)")
        case .bearer: append("bearer_token: \(mask)")
        case .header(let name, _): append("# \(name) header: \(mask)")
        }
        append("compression: \(http.compression.rawValue)")
        append("request_timeout: \(DurationText.format(http.requestTimeout))")
        append("eject_after_failures: \(http.ejectAfterFailures)")
        append("ejection_time: \(DurationText.format(http.ejectionTime))")
        append("tls:")
        if let ca = http.tls.caFile { append("  ca_file: \(Self.quote(ca))") }
        if let cert = http.tls.certFile { append("  cert_file: \(Self.quote(cert))") }
        if let key = http.tls.keyFile { append("  key_file: \(Self.quote(key))") }
        append("  verify: \(http.tls.verify)")
        append("  verify_hostname: \(http.tls.verifyHostname)")
    }

    /// `endpoints: [...]`, each quoted.
    mutating func describeEndpoints(_ http: HTTPSinkSettings) {
        append("endpoints: [\(http.endpoints.map { Self.quote($0) }.joined(separator: ", "))]")
    }
}
