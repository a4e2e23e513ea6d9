import Foundation
import LogBridgeCore
import Yams

extension LogBridgeConfiguration {
    static let adminKeys = ["listen", "token", "max_connections", "idle_timeout", "request_timeout"]

    /// The `admin:` section alone, for clients of a running gateway (`logbridge status
    /// --config`): only its own `${env:}` and `${file:}` references are read, so the caller
    /// needs neither the Kafka nor the sinks' secrets.
    /// - Throws: ``ConfigurationError`` for an unreadable file or a bad `admin:` key.
    public static func loadAdmin(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> AdminConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, issues: [ConfigurationIssue(path: "", line: nil, message: "cannot read the file")])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigurationError(file: path, issues: [ConfigurationIssue(path: "", line: nil, message: "YAML error: \(error)")])
        }
        let reader = ConfigReader(environment: environment)
        var adminNode: Node?
        if case .mapping(let mapping)? = root {
            adminNode = mapping.first { $0.key.scalar?.string == "admin" }?.value
        }
        let admin = decodeAdmin(adminNode, reader)
        guard reader.issues.isEmpty else { throw ConfigurationError(file: path, issues: reader.issues) }
        return admin
    }

    static func decodeAdmin(_ node: Node?, _ r: ConfigReader) -> AdminConfiguration {
        var admin = AdminConfiguration()
        guard let node, let entries = r.mapping(node, "admin", allowed: adminKeys) else { return admin }
        let a = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        if let listen = r.string(a["listen"], "admin.listen") {
            if listen == "off" || AdminConfiguration(listen: listen).address != nil {
                admin.listen = listen
            } else {
                let ports = ConfigurationLimits.listenPort
                r.report(
                    "admin.listen", a["listen"],
                    "expected host:port (port \(ports.lowerBound) to \(ports.upperBound)) or off, found \(r.written(a["listen"]))")
            }
        }
        if let token = r.string(a["token"], "admin.token", secret: true) {
            // The messages describe the token and never quote it.
            if token.utf8.count < 16 {
                r.report("admin.token", a["token"], "must be at least 16 characters (e.g. `openssl rand -hex 32`)")
            } else if !token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                r.report("admin.token", a["token"], "must be printable ASCII without spaces (it travels in an HTTP header)")
            } else {
                admin.token = token
            }
        }
        if let value = r.int(a["max_connections"], "admin.max_connections", range: ConfigurationLimits.adminMaxConnections) {
            admin.maxConnections = value
        }
        if let value = r.duration(a["idle_timeout"], "admin.idle_timeout", range: ConfigurationLimits.adminIdleTimeout) { admin.idleTimeout = value }
        if let value = r.duration(a["request_timeout"], "admin.request_timeout", range: ConfigurationLimits.adminRequestTimeout) {
            admin.requestTimeout = value
        }
        return admin
    }
}
