import LogBridgeCore
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool

extension LoadedConfiguration {
    static let mask = "********"

    /// The effective configuration (defaults filled in) as YAML, with every secret masked.
    /// This is what `logbridge check` prints.
    public func effectiveYAML() -> String {
        let c = configuration
        var lines: [String] = []
        func value(_ path: String, _ text: String) -> String {
            secretPaths.contains(path) ? Self.mask : quote(text)
        }
        lines.append("source:")
        lines.append("  # event time: the first of these record fields that holds a time, else the Kafka timestamp")
        lines.append("  event_time_fields: [\(c.eventTime.names.map(quote).joined(separator: ", "))]")
        lines.append("  kafka:")
        if let connection = c.source.connectionString {
            lines.append("    connection_string: \(Self.mask)  # namespace \(connection.host)")
            lines.append("    # bootstrap \(connection.bootstrapServer), SASL_SSL, PLAIN, user $ConnectionString")
        } else if let entra = c.source.entraID {
            lines.append("    entra_id:")
            lines.append("      namespace: \(quote(entra.namespaceHost))")
            lines.append("      tenant_id: \(value("source.kafka.entra_id.tenant_id", entra.tenantID))")
            lines.append("      client_id: \(value("source.kafka.entra_id.client_id", entra.clientID))")
            switch entra.credential {
            case .clientSecret:
                lines.append("      client_secret: \(Self.mask)")
                lines.append("      workload_identity: false")
            case .workloadIdentity(let file):
                lines.append("      workload_identity: true")
                lines.append("      federated_token_file: \(value("source.kafka.entra_id.federated_token_file", file))  # read at each refresh")
            }
            lines.append("      authority_host: \(value("source.kafka.entra_id.authority_host", entra.authorityHost))")
            lines.append("      scope: \(quote(entra.scope))")
            lines.append("    # bootstrap \(entra.bootstrapServer), SASL_SSL, OAUTHBEARER; token from \(entra.tokenEndpoint)")
            lines.append("    # refreshed by logbridge at 80% of its lifetime or 5m before expiry, whichever comes first")
        } else {
            lines.append("    brokers: [\(c.source.brokers.enumerated().map { value("source.kafka.brokers[\($0.offset)]", $0.element) }.joined(separator: ", "))]")
        }
        lines.append("    topics: [\(c.source.topics.enumerated().map { value("source.kafka.topics[\($0.offset)]", $0.element) }.joined(separator: ", "))]")
        lines.append("    group_id: \(value("source.kafka.group_id", c.source.groupID))")
        lines.append("    start_from: \(c.source.startFrom.rawValue)")
        lines.append("    max_record_bytes: \(ByteSize.format(c.spool.maxRecordBytes))")
        lines.append(
            c.source.keepsHeaders
                ? "    # Kafka headers: read and spooled (the configuration names %kafka.headers.NAME)"
                : "    # Kafka headers: not read (nothing in the configuration names %kafka.headers.NAME)")
        if c.source.properties.isEmpty {
            lines.append("    properties: {}")
        } else {
            lines.append("    properties:")
            for (name, text) in c.source.properties.sorted(by: { $0.key < $1.key }) {
                let path = "source.kafka.properties.\(name)"
                let shown = secretPaths.contains(path) || KafkaSourceConfiguration.isSecretProperty(name) ? Self.mask : quote(text)
                lines.append("      \(name): \(shown)")
            }
        }
        if c.source.isEventHubs {
            // What librdkafka is given for Event Hubs, after `properties` (Microsoft's recommended
            // settings, the sign-in and TLS checks); secrets masked.
            lines.append("    # librdkafka settings for Event Hubs (properties may tune these, not sign-in or TLS checks):")
            var effective: [String: String] = [:]
            var order: [String] = []
            for (name, text) in c.source.librdkafkaProperties(clientID: "logbridge-HOSTNAME") {
                if effective[name] == nil { order.append(name) }
                effective[name] = text
            }
            for name in order where !["group.id", "client.id", "bootstrap.servers"].contains(name) {
                let text = effective[name] ?? ""
                let shown = KafkaSourceConfiguration.isSecretProperty(name) || name == "sasl.password"
                    || secretPaths.contains("source.kafka.properties.\(name)") ? Self.mask : text
                lines.append("    #   \(name)=\(shown)")
            }
        }
        lines.append("spool:")
        lines.append("  path: \(value("spool.path", c.spool.path))")
        lines.append("  max_bytes: \(ByteSize.format(c.spool.maxBytes))")
        lines.append("  high_watermark: \(c.spool.highWatermark)")
        lines.append("  low_watermark: \(c.spool.lowWatermark)")
        lines.append("  dead_letter_max_bytes: \(ByteSize.format(c.spool.deadLetterByteLimit))")
        lines.append("  compression: \(c.spool.compression.rawValue)")
        lines.append("pipeline: \(describe(c.pipeline))")
        lines.append("sinks:")
        for sink in c.sinks {
            let prefix = "sinks.\(sink.name)"
            lines.append("  \(sink.name):")
            lines.append("    type: \(sink.kind.typeName)")
            if let kind = sink.kind as? any ConfiguredSinkKind {
                var description = SinkDescription(prefix: prefix, secretPaths: secretPaths)
                kind.describe(&description)
                lines += description.lines
                if type(of: kind).isHTTP { lines.append(describeConcurrency(sink)) }
            }
            lines.append("    batch_size: \(sink.runner.batchSize)")
            lines.append("    max_batch_bytes: \(ByteSize.format(sink.runner.maxBatchBytes))")
            lines.append("    interval: \(DurationText.format(sink.runner.interval))")
            lines.append("    max_backoff: \(DurationText.format(sink.runner.maxBackoff))")
            if !sink.pipeline.isEmpty { lines.append("    pipeline: \(describe(sink.pipeline))") }
            lines.append(describeBacklog(sink.backlog))
        }
        lines.append("admin:")
        lines.append("  listen: \(value("admin.listen", c.admin.listen))")
        if c.admin.token != nil { lines.append("  token: \(Self.mask)  # required on /metrics; /healthz and /readyz answer without it") }
        lines.append("  max_connections: \(c.admin.maxConnections)")
        lines.append("  idle_timeout: \(DurationText.format(c.admin.idleTimeout))")
        lines.append("  request_timeout: \(DurationText.format(c.admin.requestTimeout))")
        lines.append("log:")
        lines.append("  level: \(c.log.level.rawValue)")
        lines.append("  format: \(c.log.format.rawValue)")
        lines.append("shutdown_timeout: \(DurationText.format(c.shutdownTimeout))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `sinks.NAME.backlog` on one line, with what it means for the other sinks.
    private func describeBacklog(_ backlog: SinkBacklogLimit) -> String {
        var entries: [String] = []
        if let bytes = backlog.maxBytes { entries.append("max_bytes: \(ByteSize.format(bytes))") }
        if let age = backlog.maxAge { entries.append("max_age: \(DurationText.format(age))") }
        entries.append("when_full: \(backlog.whenFull.rawValue)")
        let note = backlog.skips
            ? "  # past the limit or a full spool: this sink's oldest records are skipped, the others keep flowing"
            : "  # lossless: a full spool pauses Kafka for every sink"
        return "    backlog: {\(entries.joined(separator: ", "))}" + note
    }

    /// A pipeline as its processor types in order; options (hash keys among them) stay out.
    private func describe(_ pipeline: PipelineConfiguration) -> String {
        guard !pipeline.isEmpty else { return "[]  # no processors: records go out as they came" }
        return "[\(pipeline.processors.map(\.typeName).joined(separator: ", "))]"
    }

    private func describeConcurrency(_ sink: SinkConfiguration) -> String {
        if let adaptive = sink.kind.adaptiveConcurrencyMaximum { return "    concurrency: adaptive\n    max_concurrency: \(adaptive)" }
        return "    concurrency: \(sink.runner.concurrency)"
    }

    private func quote(_ text: String) -> String { SinkDescription.quote(text) }
}
