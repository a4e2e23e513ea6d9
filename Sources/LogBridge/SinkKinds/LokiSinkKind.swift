import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks
import Yams

/// `type: loki`: the push API, records grouped into streams by label.
extension LokiSinkConfiguration: ConfiguredSinkKind {
    public static let typeName = "loki"
    static let keys = ["labels", "structured_metadata", "tenant_id", "max_streams", "path"]
    static let isHTTP = true

    /// Labels (sanitised, cardinality-checked), tenant and stream limit.
    static func decode(_ entries: SinkEntries, runner: inout SinkRunnerConfiguration) -> LokiSinkConfiguration? {
        let (s, path, r) = (entries.values, entries.path, entries.reader)
        guard let http = entries.http else { return nil }
        let readTemplate = { (node: Node?, path: String) in LogBridgeConfiguration.template(node, path, r) }

        var configuration = LokiSinkConfiguration(http: http)
        if let entries = r.mapping(s["labels"], "\(path).labels") {
            configuration.labels = []
            var names: Set<String> = []
            for entry in entries {
                let key = "\(path).labels.\(entry.key)"
                guard let template = readTemplate(entry.value, key) else { continue }
                if let problem = LokiSinkConfiguration.cardinalityProblem(template) {
                    r.report(key, entry.value, "refused as a label: \(problem)")
                }
                let name = LokiSinkConfiguration.sanitize(entry.key)
                if !names.insert(name).inserted { r.report(key, entry.keyNode, "label '\(name)' is set twice (after sanitising to Loki's rules)") }
                configuration.labels.append(.init(name: name, template: template))
            }
            if configuration.labels.isEmpty { r.report("\(path).labels", s["labels"], "Loki needs at least one label") }
            if configuration.labels.count > LokiSinkConfiguration.maxLabels {
                r.report("\(path).labels", s["labels"], "Loki accepts at most \(LokiSinkConfiguration.maxLabels) labels per stream")
            }
        }
        if let entries = r.mapping(s["structured_metadata"], "\(path).structured_metadata") {
            let labelNames = Set(configuration.labels.map(\.name))
            var names: Set<String> = []
            for entry in entries {
                let key = "\(path).structured_metadata.\(entry.key)"
                guard let template = readTemplate(entry.value, key) else { continue }
                // Same rules as label names: LogQL filters on metadata as on labels.
                let name = LokiSinkConfiguration.sanitize(entry.key)
                if !names.insert(name).inserted {
                    r.report(key, entry.keyNode, "structured metadata '\(name)' is set twice (after sanitising to Loki's rules)")
                } else if labelNames.contains(name) {
                    r.report(key, entry.keyNode, "'\(name)' is already a stream label; a query could not tell the two apart")
                }
                configuration.structuredMetadata.append(.init(name: name, template: template))
            }
            if configuration.structuredMetadata.count > LokiSinkConfiguration.maxStructuredMetadataEntries {
                r.report(
                    "\(path).structured_metadata", s["structured_metadata"],
                    "Loki accepts at most \(LokiSinkConfiguration.maxStructuredMetadataEntries) structured metadata entries per line by default")
            }
        }
        configuration.tenantID = r.string(s["tenant_id"], "\(path).tenant_id")
        if let value = r.int(s["max_streams"], "\(path).max_streams", range: ConfigurationLimits.maxStreams) { configuration.maxStreams = value }
        if let value = r.string(s["path"], "\(path).path") { configuration.path = value }
        return configuration
    }

    func describe(_ out: inout SinkDescription) {
        out.describeEndpoints(http)
        out.append("labels:")
        for label in labels { out.append("  \(label.name): \(SinkDescription.quote(label.template.source))") }
        if structuredMetadata.isEmpty {
            out.append("structured_metadata: {}")
        } else {
            out.append("structured_metadata:")
            for field in structuredMetadata { out.append("  \(field.name): \(SinkDescription.quote(field.template.source))") }
        }
        if let tenantID { out.append("tenant_id: \(out.value("tenant_id", tenantID))") }
        out.append("max_streams: \(maxStreams)")
        out.append("path: \(SinkDescription.quote(path))")
        out.describeHTTP(http)
    }

    public var adaptiveConcurrencyMaximum: Int? { http.adaptiveConcurrencyMaximum }

    public func makeSink(_ context: SinkKindContext) throws -> any Sink {
        try LokiSink(name: context.name, configuration: self, statistics: context.statistics, logger: context.logger)
    }
}
