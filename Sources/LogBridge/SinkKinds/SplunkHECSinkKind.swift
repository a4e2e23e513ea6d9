import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks
import Yams

/// `type: splunk_hec`: the HTTP Event Collector, with indexer acknowledgements.
extension SplunkHECSinkConfiguration: ConfiguredSinkKind {
    public static let typeName = "splunk_hec"
    static let keys = [
        "token", "host", "source", "sourcetype", "index", "fields", "acknowledgements", "ack_poll_interval", "ack_timeout",
        "max_pending_acks", "path",
    ]
    static let isHTTP = true

    static func credentialKeys(_ path: String) -> String { "\(path).token" }

    /// Token, metadata templates, indexed fields and acknowledgements.
    static func decode(_ entries: SinkEntries, runner: inout SinkRunnerConfiguration) -> SplunkHECSinkConfiguration? {
        let (s, path, node, r) = (entries.values, entries.path, entries.node, entries.reader)
        guard let http = entries.http else { return nil }
        let readTemplate = { (node: Node?, path: String) in LogBridgeConfiguration.template(node, path, r) }

        guard let token = r.require(r.string(s["token"], "\(path).token", secret: true), s["token"], "\(path).token", parent: node) else {
            return nil
        }
        var configuration = SplunkHECSinkConfiguration(http: http)
        if s["user"] != nil { r.report("\(path).user", s["user"], "HEC authenticates with token; remove user/password") }
        configuration.setToken(token)
        configuration.host = readTemplate(s["host"], "\(path).host")
        configuration.source = readTemplate(s["source"], "\(path).source")
        configuration.sourcetype = readTemplate(s["sourcetype"], "\(path).sourcetype")
        configuration.index = readTemplate(s["index"], "\(path).index")
        if let entries = r.mapping(s["fields"], "\(path).fields") {
            for entry in entries {
                if entry.key == "event_id" {
                    r.report("\(path).fields.event_id", entry.keyNode, "event_id is always set (topic-partition-offset); choose another name")
                }
                if let template = readTemplate(entry.value, "\(path).fields.\(entry.key)") {
                    configuration.fields.append(.init(name: entry.key, template: template))
                }
            }
        }
        if let acks = r.bool(s["acknowledgements"], "\(path).acknowledgements") { configuration.acknowledgements = acks }
        if let value = r.duration(s["ack_poll_interval"], "\(path).ack_poll_interval", range: ConfigurationLimits.ackPollInterval) {
            configuration.ackPollInterval = value
        }
        if let value = r.duration(s["ack_timeout"], "\(path).ack_timeout", range: ConfigurationLimits.ackTimeout) { configuration.ackTimeout = value }
        if let value = r.int(s["max_pending_acks"], "\(path).max_pending_acks", range: ConfigurationLimits.maxPendingAcks) {
            configuration.maxPendingAcks = value
        }
        if let value = r.string(s["path"], "\(path).path") {
            if !SplunkHECSinkConfiguration.eventPaths.contains(value) {
                r.report("\(path).path", s["path"], SplunkHECSinkConfiguration.pathProblem(value))
            }
            configuration.path = value
        }
        runner.maxPendingConfirmations = configuration.acknowledgements ? configuration.maxPendingAcks : 0
        return configuration
    }

    func describe(_ out: inout SinkDescription) {
        out.describeEndpoints(http)
        out.append("token: \(LoadedConfiguration.mask)")
        out.append("path: \(SinkDescription.quote(path))")
        for (key, template) in [("host", host), ("source", source), ("sourcetype", sourcetype), ("index", index)] {
            if let template { out.append("\(key): \(SinkDescription.quote(template.source))") }
        }
        if !fields.isEmpty {
            out.append("fields:")
            for field in fields { out.append("  \(field.name): \(SinkDescription.quote(field.template.source))") }
        }
        out.append("acknowledgements: \(acknowledgements)")
        out.append("ack_poll_interval: \(DurationText.format(ackPollInterval))")
        out.append("ack_timeout: \(DurationText.format(ackTimeout))")
        out.append("max_pending_acks: \(maxPendingAcks)")
        out.append("path: \(SinkDescription.quote(path))")
        out.describeHTTP(http, showAuthentication: false)
    }

    public var adaptiveConcurrencyMaximum: Int? { http.adaptiveConcurrencyMaximum }

    public func makeSink(_ context: SinkKindContext) throws -> any Sink {
        try SplunkHECSink(
            name: context.name, configuration: self, notebook: context.notebook, statistics: context.statistics,
            logger: context.logger)
    }
}
