import Foundation
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgePipeline
import LogBridgeSinks
import LogBridgeSpool
import Logging
import Yams

extension LogBridgeConfiguration {
    /// Loads and validates a configuration file.
    /// - Throws: ``ConfigurationError`` listing every problem with its key path and line.
    /// - Parameter dryRun: set by `pipeline test`: secrets outside the pipeline may be missing.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment, dryRun: DryRunLoading? = nil
    ) throws(ConfigurationError) -> LoadedConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, issues: [ConfigurationIssue(path: "", line: nil, message: "cannot read the file")])
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), file: path, environment: environment, dryRun: dryRun)
    }

    /// Parses a configuration from YAML text.
    /// - Parameter dryRun: set by `pipeline test`: secrets outside the pipeline may be missing.
    public static func parse(
        yaml: String, file: String = "<config>", environment: [String: String] = ProcessInfo.processInfo.environment,
        dryRun: DryRunLoading? = nil
    ) throws(ConfigurationError) -> LoadedConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError(file: file, issues: [Self.issue(from: error)])
        } catch {
            throw ConfigurationError(file: file, issues: [ConfigurationIssue(path: "", line: nil, message: "\(error)")])
        }
        let reader = ConfigReader(environment: environment, dryRun: dryRun)
        let configuration = decode(root, reader)
        guard let configuration, reader.issues.isEmpty else {
            throw ConfigurationError(file: file, issues: reader.issues)
        }
        return LoadedConfiguration(
            configuration: configuration, secretPaths: reader.secretPaths, warnings: reader.warnings, dryRunNotes: reader.dryRunNotes)
    }

    private static func issue(from error: YamlError) -> ConfigurationIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ConfigurationIssue(path: "", line: mark.line, message: "YAML syntax error: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigurationIssue(
                path: "", line: context.mark.line, message: "duplicate keys: \(duplicates.joined(separator: ", "))")
        default:
            return ConfigurationIssue(path: "", line: nil, message: "YAML error: \(error)")
        }
    }

    static let topLevelKeys = ["source", "spool", "pipeline", "sinks", "admin", "log", "shutdown_timeout"]
    static let kafkaKeys = [
        "brokers", "connection_string", "entra_id", "topics", "group_id", "start_from", "properties", "max_record_bytes",
    ]
    static let entraIDKeys = [
        "namespace", "tenant_id", "client_id", "client_secret", "workload_identity", "federated_token_file", "authority_host", "scope",
    ]
    static let spoolKeys = ["path", "max_bytes", "high_watermark", "low_watermark", "dead_letter_max_bytes", "compression"]
    static let backlogKeys = ["max_bytes", "max_age", "when_full"]

    private static func decode(_ root: Node?, _ r: ConfigReader) -> LogBridgeConfiguration? {
        guard let root else {
            r.report("", nil, "the file is empty; see conf/logbridge.yaml for a complete example")
            return nil
        }
        guard let top = r.mapping(root, "", allowed: topLevelKeys) else { return nil }
        let sections = Dictionary(top.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })

        // source.kafka
        var source: KafkaSourceConfiguration?
        var maxRecordBytes = 1 << 20
        var eventTime = EventTimeFields.default
        if let sourceNode = sections["source"], let sourceMap = r.mapping(sourceNode, "source", allowed: ["kafka", "event_time_fields"]) {
            if let node = sourceMap.first(where: { $0.key == "event_time_fields" })?.value,
               let names = r.stringList(node, "source.event_time_fields") {
                if let empty = names.firstIndex(of: "") {
                    r.report("source.event_time_fields[\(empty)]", node, "must not be empty (an empty list uses the Kafka timestamp alone)")
                } else if let dotted = names.first(where: { $0.contains(".") }) {
                    r.report(
                        "source.event_time_fields", node,
                        "'\(dotted)' is not a top-level field; read a nested time with the timestamp processor (pipeline: - type: timestamp)")
                } else {
                    eventTime = EventTimeFields(names)
                }
            }
            let kafkaNode = sourceMap.first { $0.key == "kafka" }?.value
            if kafkaNode == nil { r.report("source.kafka", sourceNode, "required key is missing") }
            if let kafka = r.mapping(kafkaNode, "source.kafka", allowed: kafkaKeys) {
                let (decoded, limit) = decodeKafka(Dictionary(kafka.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }), kafkaNode!, r)
                source = decoded
                if let limit { maxRecordBytes = limit }
            }
        } else if sections["source"] == nil {
            r.report("source", root, "required key is missing")
        }

        // spool
        var spool: SpoolConfiguration?
        if let spoolNode = sections["spool"], let entries = r.mapping(spoolNode, "spool", allowed: spoolKeys) {
            let s = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let path = r.require(r.string(s["path"], "spool.path"), s["path"], "spool.path", parent: spoolNode)
            var configuration = SpoolConfiguration(path: path ?? "")
            if let value = r.byteSize(s["max_bytes"], "spool.max_bytes", range: ConfigurationLimits.spoolMaxBytes) { configuration.maxBytes = value }
            if let value = r.double(s["high_watermark"], "spool.high_watermark", range: 0.05...1) { configuration.highWatermark = value }
            if let value = r.double(s["low_watermark"], "spool.low_watermark", range: 0...0.99) { configuration.lowWatermark = value }
            if configuration.lowWatermark >= configuration.highWatermark {
                r.report("spool.low_watermark", s["low_watermark"] ?? spoolNode, "must be below spool.high_watermark")
            }
            configuration.maxRecordBytes = maxRecordBytes
            if configuration.maxBytes < 4 * maxRecordBytes {
                r.report("spool.max_bytes", s["max_bytes"] ?? spoolNode, "must be at least 4 x source.kafka.max_record_bytes (\(ByteSize.format(4 * maxRecordBytes)))")
            }
            if let value = r.byteSize(s["dead_letter_max_bytes"], "spool.dead_letter_max_bytes", range: ConfigurationLimits.deadLetterMaxBytes) {
                // Dead letters share the spool with the backlog; more than half would leave the
                // records waiting for sinks too little room before the source pauses.
                if value > configuration.maxBytes / 2 {
                    r.report(
                        "spool.dead_letter_max_bytes", s["dead_letter_max_bytes"],
                        "must be at most half of spool.max_bytes (\(ByteSize.format(configuration.maxBytes / 2)))")
                }
                configuration.deadLetterMaxBytes = value
            }
            if let value = r.choice(s["compression"], "spool.compression", as: SpoolCompression.self) {
                configuration.compression = value
            }
            spool = path == nil ? nil : configuration
        } else if sections["spool"] == nil {
            r.report("spool", root, "required key is missing")
        }

        // sinks
        var sinks: [SinkConfiguration] = []
        var sinkNames: [String] = []
        if let sinksNode = sections["sinks"], let entries = r.mapping(sinksNode, "sinks") {
            if entries.isEmpty { r.report("sinks", sinksNode, "at least one sink is required") }
            sinkNames = entries.map(\.key)
            for entry in entries {
                if let sink = decodeSink(name: entry.key, entry.value, sinkNames: sinkNames, spool: spool, r) { sinks.append(sink) }
            }
        } else if sections["sinks"] == nil {
            r.report("sinks", root, "required key is missing")
        }

        let admin = decodeAdmin(sections["admin"], r)

        var log = LogConfiguration()
        if let logNode = sections["log"], let entries = r.mapping(logNode, "log", allowed: ["level", "format"]) {
            let l = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            if let level = r.string(l["level"], "log.level") {
                if let parsed = Logger.Level(rawValue: level) { log.level = parsed } else {
                    r.report("log.level", l["level"], "expected one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), found \(r.written(l["level"]))")
                }
            }
            if let format = r.choice(l["format"], "log.format", as: LogConfiguration.Format.self) { log.format = format }
        }

        let pipeline = decodePipeline(sections["pipeline"], "pipeline", topLevel: true, sinkNames: sinkNames, r)
        // Processors were built one by one above, but `metrics` declarations meet in one registry
        // shared by every pipeline: a metric declared twice with different types or labels passed
        // `check` and then stopped `run` when the gateway built the pipelines (found by fuzzing,
        // Fuzz/Corpus/config/metric-declared-twice). Build them here as the gateway does.
        let metrics = PipelineMetrics()
        for (index, sink) in sinks.enumerated() {
            do {
                _ = try SinkPipeline(
                    shared: pipeline, own: sink.pipeline, sinkName: sink.name, sinkIndex: index, sinkNames: sinkNames,
                    metrics: metrics, countsShared: index == 0, eventTime: eventTime)
            } catch {
                r.report("", nil, "sink \(sink.name): \(error.message)")
            }
        }

        let shutdownTimeout = r.duration(sections["shutdown_timeout"], "shutdown_timeout", range: ConfigurationLimits.shutdownTimeout) ?? .seconds(30)
        for index in sinks.indices { sinks[index].runner.shutdownTimeout = shutdownTimeout }

        guard var source, let spool else { return nil }
        source.keepsHeaders = r.readsKafkaHeaders || ConfigReader.namesKafkaHeader(root)
        return LogBridgeConfiguration(
            source: source, spool: spool, pipeline: pipeline, sinks: sinks, admin: admin, log: log, shutdownTimeout: shutdownTimeout,
            eventTime: eventTime)
    }

    private static func decodeKafka(_ k: [String: Node], _ node: Node, _ r: ConfigReader) -> (KafkaSourceConfiguration?, Int?) {
        let brokers = r.stringList(k["brokers"], "source.kafka.brokers")
        var connectionString: EventHubsConnectionString?
        if let text = r.string(k["connection_string"], "source.kafka.connection_string", secret: true) {
            do {
                connectionString = try EventHubsConnectionString(text)
            } catch {
                r.report("source.kafka.connection_string", k["connection_string"], "\(error)")
            }
        }
        let entraID = k["entra_id"].flatMap { decodeEntraID($0, r) }
        let ways = ["brokers", "connection_string", "entra_id"].filter { k[$0] != nil }
        if ways.count > 1 {
            r.report("source.kafka", node, "set one of brokers, connection_string or entra_id, not \(ways.joined(separator: " and "))")
        } else if ways.isEmpty {
            r.report("source.kafka.brokers", node, "required key is missing (or set connection_string or entra_id for Event Hubs)")
        }
        if let brokers, brokers.isEmpty { r.report("source.kafka.brokers", k["brokers"], "must list at least one host:port") }
        for (index, broker) in (brokers ?? []).enumerated() where broker.contains("@") {
            // `user:password@host:9092` would show in `check`, the logs and librdkafka's errors.
            r.report(
                "source.kafka.brokers[\(index)]", element(k["brokers"], index),
                "credentials do not belong in a broker address; use source.kafka.properties sasl.username and sasl.password (read with ${file:})")
        }
        var topics = r.stringList(k["topics"], "source.kafka.topics")
        if topics == nil, let hub = connectionString?.entityPath { topics = [hub] }
        if topics == nil && k["topics"] == nil {
            r.report("source.kafka.topics", node, "required key is missing")
        } else if topics?.isEmpty == true {
            r.report("source.kafka.topics", k["topics"], "must list at least one topic")
        } else if let topics, Set(topics).count > ConfigurationLimits.topics.upperBound {
            r.report(
                "source.kafka.topics", k["topics"],
                "lists \(Set(topics).count) topics; the spool can index at most \(ConfigurationLimits.topics.upperBound) (use a ^regex subscription for many similar topics)")
        }
        var configuration = KafkaSourceConfiguration(
            brokers: brokers ?? [], connectionString: connectionString, entraID: entraID, topics: topics ?? [])
        if let group = r.string(k["group_id"], "source.kafka.group_id") {
            if group.isEmpty { r.report("source.kafka.group_id", k["group_id"], "must not be empty") } else { configuration.groupID = group }
        }
        if let start = r.choice(k["start_from"], "source.kafka.start_from", as: KafkaSourceConfiguration.StartFrom.self) {
            configuration.startFrom = start
        }
        if let entries = r.mapping(k["properties"], "source.kafka.properties") {
            for entry in entries {
                let path = "source.kafka.properties.\(entry.key)"
                if KafkaSourceConfiguration.reservedProperties.contains(entry.key) {
                    r.report(path, entry.keyNode, "is set by logbridge itself (exactly-once depends on it); use the dedicated key instead")
                    continue
                }
                if configuration.isEventHubs || k["connection_string"] != nil || k["entra_id"] != nil,
                    let refusal = KafkaSourceConfiguration.eventHubsRefusal(entry.key)
                {
                    r.report(path, entry.keyNode, "refused with Event Hubs: \(refusal)")
                    continue
                }
                if let value = r.string(entry.value, path, secret: KafkaSourceConfiguration.isSecretProperty(entry.key)) {
                    configuration.properties[entry.key] = value
                }
            }
        }
        let limit = r.byteSize(k["max_record_bytes"], "source.kafka.max_record_bytes", range: ConfigurationLimits.maxRecordBytes)
        // A dry run's placeholder is no connection string, but stands for one.
        let noAddress = brokers == nil && connectionString == nil && entraID == nil && !r.isPlaceholder("source.kafka.connection_string")
        return (topics == nil || noAddress ? nil : configuration, limit)
    }

    /// `source.kafka.entra_id`: Event Hubs sign-in with an Entra ID token. With
    /// `workload_identity: true`, the client id, tenant, authority and federated token file
    /// default to what AKS workload identity puts in the pod's environment.
    private static func decodeEntraID(_ node: Node, _ r: ConfigReader) -> EntraIDSignIn? {
        let path = "source.kafka.entra_id"
        guard let entries = r.mapping(node, path, allowed: entraIDKeys) else { return nil }
        let e = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let workload = r.bool(e["workload_identity"], "\(path).workload_identity") ?? false
        let environment = r.environmentValues
        func value(_ key: String, env: String) -> String? {
            if let text = r.string(e[key], "\(path).\(key)") {
                if text.isEmpty { r.report("\(path).\(key)", e[key], "must not be empty") }
                return text.isEmpty ? nil : text
            }
            if workload, let fromEnvironment = environment[env], !fromEnvironment.isEmpty { return fromEnvironment }
            r.report(
                "\(path).\(key)", e[key] ?? node,
                workload ? "required key is missing (and \(env) is not set, as AKS workload identity would)" : "required key is missing")
            return nil
        }
        var namespace: String?
        if let written = r.string(e["namespace"], "\(path).namespace") {
            let host = EntraIDSignIn.namespaceHost(written.trimmingWhitespace())
            if host.isEmpty || host.contains("/") || host.contains(":") || host.contains(" ") || host.hasPrefix(".") {
                r.report("\(path).namespace", e["namespace"], "expected NAMESPACE or NAMESPACE.servicebus.windows.net, found \(r.written(e["namespace"]))")
            } else {
                namespace = host
            }
        } else {
            r.report("\(path).namespace", node, "required key is missing (the Event Hubs namespace: NAMESPACE or NAMESPACE.servicebus.windows.net)")
        }
        let tenant = value("tenant_id", env: "AZURE_TENANT_ID")
        let client = value("client_id", env: "AZURE_CLIENT_ID")
        var credential: EntraIDSignIn.Credential?
        if workload {
            if e["client_secret"] != nil {
                r.report("\(path).client_secret", e["client_secret"], "not used with workload_identity: true (the federated token is the credential); remove one of them")
            }
            if let file = value("federated_token_file", env: "AZURE_FEDERATED_TOKEN_FILE") {
                credential = .workloadIdentity(federatedTokenFile: file)
                if !FileManager.default.isReadableFile(atPath: file) {
                    // The kubelet projects the file into the pod; `check` elsewhere cannot see it.
                    r.warn("\(path).federated_token_file", e["federated_token_file"] ?? node, "\(file) cannot be read here; logbridge reads it at each token refresh")
                }
            }
        } else {
            if e["federated_token_file"] != nil {
                r.report("\(path).federated_token_file", e["federated_token_file"], "only used with workload_identity: true")
            }
            if let secret = r.string(e["client_secret"], "\(path).client_secret", secret: true) {
                if secret.isEmpty { r.report("\(path).client_secret", e["client_secret"], "must not be empty") } else { credential = .clientSecret(secret) }
            } else {
                r.report("\(path).client_secret", node, "required key is missing (read it with ${file:/path}), or set workload_identity: true")
            }
        }
        var authority = EntraIDSignIn.defaultAuthorityHost
        if let written = r.string(e["authority_host"], "\(path).authority_host") {
            authority = written
        } else if workload, let fromEnvironment = environment["AZURE_AUTHORITY_HOST"], !fromEnvironment.isEmpty {
            authority = fromEnvironment
        }
        if let problem = EntraIDSignIn.authorityHostProblem(authority) {
            r.report("\(path).authority_host", e["authority_host"] ?? node, "\(problem), found '\(authority)'")
        }
        let scope = r.string(e["scope"], "\(path).scope")
        if let scope, !(scope.hasPrefix("https://") && scope.hasSuffix("/.default")) {
            r.report("\(path).scope", e["scope"], "expected https://RESOURCE/.default (Entra ID's client-credentials flow takes only .default scopes)")
        }
        for key in ["tenant_id", "client_id"] {
            if let text = (key == "tenant_id" ? tenant : client), !text.allSatisfy({ $0.isLetter || $0.isNumber || "-.".contains($0) }) {
                r.report("\(path).\(key)", e[key] ?? node, "expected a GUID or a domain name such as contoso.onmicrosoft.com")
            }
        }
        guard let namespace, let tenant, let client, let credential, EntraIDSignIn.authorityHostProblem(authority) == nil else { return nil }
        return EntraIDSignIn(
            namespaceHost: namespace, tenantID: tenant, clientID: client, credential: credential, authorityHost: authority, scope: scope)
    }

    private static func decodeSink(
        name: String, _ node: Node, sinkNames: [String], spool: SpoolConfiguration?, _ r: ConfigReader
    ) -> SinkConfiguration? {
        guard var sink = decodeSinkKind(name: name, node, r) else { return nil }
        if case .mapping = node, let pipelineNode = r.mapping(node, "sinks.\(name)")?.first(where: { $0.key == "pipeline" })?.value {
            // Elasticsearch once took `pipeline: NAME` for its ingest pipeline; a plain string
            // still means that (now `ingest_pipeline`), a list is logbridge's own pipeline.
            if case .scalar = pipelineNode, var es = sink.kind as? ElasticsearchSinkConfiguration {
                es.pipeline = r.string(pipelineNode, "sinks.\(name).pipeline")
                sink.kind = es
            } else {
                sink.pipeline = decodePipeline(pipelineNode, "sinks.\(name).pipeline", topLevel: false, sinkNames: sinkNames, r)
            }
        }
        if case .mapping = node, let backlogNode = r.mapping(node, "sinks.\(name)")?.first(where: { $0.key == "backlog" })?.value {
            sink.backlog = decodeBacklog(backlogNode, "sinks.\(name).backlog", spool: spool, r)
        }
        return sink
    }

    /// `sinks.NAME.backlog`: how much of the spool the sink may hold back, and what happens past it.
    private static func decodeBacklog(_ node: Node, _ path: String, spool: SpoolConfiguration?, _ r: ConfigReader) -> SinkBacklogLimit {
        var limit = SinkBacklogLimit()
        guard let entries = r.mapping(node, path, allowed: backlogKeys) else { return limit }
        let b = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        limit.maxBytes = r.byteSize(b["max_bytes"], "\(path).max_bytes", range: ConfigurationLimits.backlogMaxBytes)
        limit.maxAge = r.duration(b["max_age"], "\(path).max_age", range: ConfigurationLimits.backlogMaxAge)
        if let policy = r.choice(b["when_full"], "\(path).when_full", as: SinkBacklogLimit.Policy.self) { limit.whenFull = policy }
        if !limit.skips, limit.maxBytes != nil || limit.maxAge != nil {
            r.warn(
                path, node,
                "max_bytes and max_age only act with when_full: skip_oldest; with block (the default) the sink keeps every record and a full spool pauses Kafka")
        }
        if limit.skips, let maxBytes = limit.maxBytes, let spool {
            // Whole MiB, so the message reads "921MiB" rather than a byte count.
            let room = Int(Double(spool.maxBytes) * spool.highWatermark) / (1 << 20) * (1 << 20)
            if maxBytes >= room {
                r.warn(
                    "\(path).max_bytes", b["max_bytes"],
                    "the spool pauses Kafka at spool.max_bytes x high_watermark (\(ByteSize.format(room))) before this sink reaches its limit; it then skips as much as the spool needs to get back to low_watermark. Keep max_bytes well under that for skips to start here")
            }
        }
        return limit
    }

    private static func decodeSinkKind(name: String, _ node: Node, _ r: ConfigReader) -> SinkConfiguration? {
        let path = "sinks.\(name)"
        guard case .mapping = node else {
            r.report(path, node, "expected a mapping with at least 'type'")
            return nil
        }
        let typeNode = r.mapping(node, path)?.first { $0.key == "type" }?.value
        guard let type = r.string(typeNode, "\(path).type") else {
            if typeNode == nil { r.report("\(path).type", node, "required key is missing") }
            return nil
        }
        guard let kind = SinkKinds.named(type) else {
            let supported = SinkKinds.all.map { $0.typeName }.sorted().joined(separator: ", ")
            r.report("\(path).type", typeNode, "unknown sink type '\(type)' (this version supports: \(supported))")
            return nil
        }
        return decodeSink(kind, name: name, path: path, node, r)
    }

    /// The keys of one kind of sink: the runner's, the HTTP ones if it takes them, then its own.
    private static func decodeSink<Kind: ConfiguredSinkKind>(
        _ kind: Kind.Type, name: String, path: String, _ node: Node, _ r: ConfigReader
    ) -> SinkConfiguration? {
        guard let entries = r.mapping(node, path, allowed: SinkKinds.allowedKeys(kind)) else { return nil }
        var s = SinkEntries(path: path, node: node, values: Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }), reader: r)

        var runner = SinkRunnerConfiguration()
        if kind.isHTTP {
            // HTTP sinks: the Splunk add-on's defaults, a short flush interval and a few requests
            // in flight.
            runner.batchSize = 500
            runner.maxBatchBytes = 1 << 20
            runner.interval = .seconds(1)
            runner.concurrency = 4
        } else {
            // File and console sinks write whatever is ready; larger batches amortise the fsync.
            runner.batchSize = 10_000
            runner.maxBatchBytes = 4 << 20
        }
        if let value = r.int(s["batch_size"], "\(path).batch_size", range: ConfigurationLimits.batchSize) { runner.batchSize = value }
        if let value = r.byteSize(s["max_batch_bytes"], "\(path).max_batch_bytes", range: ConfigurationLimits.maxBatchBytes) {
            runner.maxBatchBytes = value
        }
        if let value = r.duration(s["interval"], "\(path).interval", range: ConfigurationLimits.interval) { runner.interval = value }
        if let value = r.duration(s["max_backoff"], "\(path).max_backoff", range: ConfigurationLimits.maxBackoff) { runner.maxBackoff = value }
        if kind.isHTTP {
            guard let http = decodeHTTP(s.values, path: path, node: node, r, runner: &runner, credentialKeys: kind.credentialKeys(path)) else {
                return nil
            }
            s.http = http
        }
        guard let configuration = kind.decode(s, runner: &runner) else { return nil }
        return SinkConfiguration(name: name, kind: configuration, runner: runner)
    }
}

extension LogBridgeConfiguration {
    static func template(_ node: Node?, _ path: String, _ r: ConfigReader) -> FieldTemplate? {
        guard let text = r.string(node, path) else { return nil }
        do { return try FieldTemplate(text) } catch {
            r.report(path, node, error.message)
            return nil
        }
    }

    /// The keys every HTTP sink shares: endpoints, basic auth, compression, TLS, timeout, concurrency.
    fileprivate static func decodeHTTP(
        _ s: [String: Node], path: String, node: Node, _ r: ConfigReader, runner: inout SinkRunnerConfiguration, credentialKeys: String
    ) -> HTTPSinkSettings? {
        guard let endpoints = r.require(r.stringList(s["endpoints"], "\(path).endpoints"), s["endpoints"], "\(path).endpoints", parent: node) else {
            return nil
        }
        if endpoints.isEmpty { r.report("\(path).endpoints", s["endpoints"], "must list at least one URL") }
        for (index, url) in endpoints.enumerated() {
            // The URL itself is never quoted: it may hold a password, and it may come from ${env:}.
            if case .failure(let problem) = EndpointURL.parse(url) {
                r.report("\(path).endpoints[\(index)]", element(s["endpoints"], index), problem.message(credentialKeys: credentialKeys))
            }
        }
        var http = HTTPSinkSettings(endpoints: endpoints)
        if let user = r.string(s["user"], "\(path).user") {
            guard let password = r.require(r.string(s["password"], "\(path).password", secret: true), s["password"], "\(path).password", parent: node) else {
                return nil
            }
            http.authentication = .basic(user: user, password: password)
        } else if s["password"] != nil {
            r.report("\(path).password", s["password"], "needs \(path).user")
        }
        if let compression = r.choice(s["compression"], "\(path).compression", as: HTTPSinkSettings.Compression.self) {
            http.compression = compression
        }
        if let timeout = r.duration(s["request_timeout"], "\(path).request_timeout", range: ConfigurationLimits.requestTimeout) {
            http.requestTimeout = timeout
        }
        if let failures = r.int(s["eject_after_failures"], "\(path).eject_after_failures", range: ConfigurationLimits.ejectAfterFailures) {
            http.ejectAfterFailures = failures
        }
        if let time = r.duration(s["ejection_time"], "\(path).ejection_time", range: ConfigurationLimits.ejectionTime) { http.ejectionTime = time }
        http.maxBackoff = runner.maxBackoff
        let maximum = r.int(s["max_concurrency"], "\(path).max_concurrency", range: ConfigurationLimits.concurrency)
        let concurrencyText = r.string(s["concurrency"], "\(path).concurrency")
        if concurrencyText == "adaptive" {
            // AIMD between 1 and max_concurrency; the runner's window follows the maximum.
            http.adaptiveConcurrencyMaximum = maximum ?? 16
            runner.concurrency = maximum ?? 16
        } else {
            if let text = concurrencyText {
                if let value = Int(text), ConfigurationLimits.concurrency.contains(value) {
                    runner.concurrency = value
                } else {
                    let range = ConfigurationLimits.concurrency
                    r.report(
                        "\(path).concurrency", s["concurrency"],
                        "expected a number of requests between \(range.lowerBound) and \(range.upperBound), or 'adaptive', found \(r.written(s["concurrency"]))")
                }
            }
            if maximum != nil { r.report("\(path).max_concurrency", s["max_concurrency"], "only applies with concurrency: adaptive") }
        }
        if let entries = r.mapping(s["tls"], "\(path).tls", allowed: ["ca_file", "cert_file", "key_file", "verify", "verify_hostname"]) {
            let t = Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            http.tls.caFile = r.string(t["ca_file"], "\(path).tls.ca_file")
            http.tls.certFile = r.string(t["cert_file"], "\(path).tls.cert_file")
            http.tls.keyFile = r.string(t["key_file"], "\(path).tls.key_file")
            if (http.tls.certFile == nil) != (http.tls.keyFile == nil) {
                r.report("\(path).tls", s["tls"], "cert_file and key_file go together")
            }
            if let verify = r.bool(t["verify"], "\(path).tls.verify") { http.tls.verify = verify }
            if let verify = r.bool(t["verify_hostname"], "\(path).tls.verify_hostname") { http.tls.verifyHostname = verify }
        }
        return http
    }
}

/// A validated configuration and which of its values are secrets.
public struct LoadedConfiguration: Sendable {
    public var configuration: LogBridgeConfiguration
    /// Key paths whose values must never be printed.
    public var secretPaths: Set<String>
    /// Problems that do not stop the file from loading (a world-readable `${file:}` secret):
    /// `check` prints them, `run` and a reload log them.
    public var warnings: [ConfigurationIssue] = []
    /// What a dry run (``DryRunLoading``) used instead of references it could not resolve, one
    /// note per key; `pipeline test` prints them on standard error.
    public var dryRunNotes: [ConfigurationIssue] = []
}

extension LogBridgeConfiguration {
    /// The element at `index` of a list node (for its line), or the node itself (a single string
    /// stands for a one-element list).
    fileprivate static func element(_ node: Node?, _ index: Int) -> Node? {
        if case .sequence(let sequence)? = node, index < sequence.count { return sequence[index] }
        return node
    }
}
