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
        lines.append("pipeline: \(describe(c.pipeline))")
        lines.append("sinks:")
        for sink in c.sinks {
            let prefix = "sinks.\(sink.name)"
            lines.append("  \(sink.name):")
            lines.append("    type: \(sink.kind.typeName)")
            switch sink.kind {
            case .file(let file):
                lines.append("    path: \(value("\(prefix).path", file.path))")
                lines.append("    encoding: \(file.encoding.rawValue)")
                lines.append("    fsync: \(file.fsync)")
                if file.followSymlink { lines.append("    follow_symlink: true") }
            case .console(let encoding):
                lines.append("    encoding: \(encoding.rawValue)")
            case .elasticsearch(let es):
                lines.append("    endpoints: [\(es.http.endpoints.map { quote($0) }.joined(separator: ", "))]")
                lines.append("    index: \(quote(es.index.source))")
                if let pipeline = es.pipeline { lines.append("    ingest_pipeline: \(quote(pipeline))") }
                if es.dataStream { lines.append("    data_stream: true  # not duplicate-proof across a rollover") }
                describeHTTP(es.http, prefix: prefix, into: &lines)
                lines.append(describeConcurrency(sink))
            case .splunkHEC(let hec):
                lines.append("    endpoints: [\(hec.http.endpoints.map { quote($0) }.joined(separator: ", "))]")
                lines.append("    token: \(Self.mask)")
                lines.append("    path: \(quote(hec.path))")
                for (key, template) in [("host", hec.host), ("source", hec.source), ("sourcetype", hec.sourcetype), ("index", hec.index)] {
                    if let template { lines.append("    \(key): \(quote(template.source))") }
                }
                if !hec.fields.isEmpty {
                    lines.append("    fields:")
                    for field in hec.fields { lines.append("      \(field.name): \(quote(field.template.source))") }
                }
                lines.append("    acknowledgements: \(hec.acknowledgements)")
                lines.append("    ack_poll_interval: \(DurationText.format(hec.ackPollInterval))")
                lines.append("    ack_timeout: \(DurationText.format(hec.ackTimeout))")
                lines.append("    max_pending_acks: \(hec.maxPendingAcks)")
                lines.append("    path: \(quote(hec.path))")
                describeHTTP(hec.http, prefix: prefix, showAuthentication: false, into: &lines)
                lines.append(describeConcurrency(sink))
            case .loki(let loki):
                lines.append("    endpoints: [\(loki.http.endpoints.map { quote($0) }.joined(separator: ", "))]")
                lines.append("    labels:")
                for label in loki.labels { lines.append("      \(label.name): \(quote(label.template.source))") }
                if loki.structuredMetadata.isEmpty {
                    lines.append("    structured_metadata: {}")
                } else {
                    lines.append("    structured_metadata:")
                    for field in loki.structuredMetadata { lines.append("      \(field.name): \(quote(field.template.source))") }
                }
                if let tenant = loki.tenantID { lines.append("    tenant_id: \(value("\(prefix).tenant_id", tenant))") }
                lines.append("    max_streams: \(loki.maxStreams)")
                lines.append("    path: \(quote(loki.path))")
                describeHTTP(loki.http, prefix: prefix, into: &lines)
                lines.append(describeConcurrency(sink))
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
        let adaptive: Int? = switch sink.kind {
        case .elasticsearch(let es): es.http.adaptiveConcurrencyMaximum
        case .splunkHEC(let hec): hec.http.adaptiveConcurrencyMaximum
        case .loki(let loki): loki.http.adaptiveConcurrencyMaximum
        default: nil
        }
        if let adaptive { return "    concurrency: adaptive\n    max_concurrency: \(adaptive)" }
        return "    concurrency: \(sink.runner.concurrency)"
    }

    private func describeHTTP(_ http: HTTPSinkSettings, prefix: String, showAuthentication: Bool = true, into lines: inout [String]) {
        switch http.authentication {
        case _ where !showAuthentication: break
        case .none: break
        case .basic(let user, _):
            lines.append("    user: \(quote(user))")
            lines.append("    password: \(Self.mask)")
        case .bearer: lines.append("    bearer_token: \(Self.mask)")
        case .header(let name, _): lines.append("    # \(name) header: \(Self.mask)")
        }
        lines.append("    compression: \(http.compression.rawValue)")
        lines.append("    request_timeout: \(DurationText.format(http.requestTimeout))")
        lines.append("    eject_after_failures: \(http.ejectAfterFailures)")
        lines.append("    ejection_time: \(DurationText.format(http.ejectionTime))")
        lines.append("    tls:")
        if let ca = http.tls.caFile { lines.append("      ca_file: \(quote(ca))") }
        if let cert = http.tls.certFile { lines.append("      cert_file: \(quote(cert))") }
        if let key = http.tls.keyFile { lines.append("      key_file: \(quote(key))") }
        lines.append("      verify: \(http.tls.verify)")
        lines.append("      verify_hostname: \(http.tls.verifyHostname)")
    }

    private func quote(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "._-/:".contains($0) } && !text.isEmpty
        if plain && !["true", "false", "yes", "no", "null", "on", "off"].contains(text.lowercased()) { return text }
        var out: [UInt8] = []
        JSONBytes.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
