import LogBridgeCore

/// The Kafka consumer group logbridge reads from (Event Hubs' Kafka endpoint or any Kafka).
public struct KafkaSourceConfiguration: Sendable, Equatable {
    /// Where a group with no committed offset for a partition starts.
    public enum StartFrom: String, Sendable, CaseIterable {
        case earliest, latest
    }

    /// `host:port` bootstrap brokers. Exactly one of `brokers`, `connectionString` and `entraID`
    /// is set.
    public var brokers: [String]
    /// An Event Hubs namespace connection string (secret).
    public var connectionString: EventHubsConnectionString?
    /// Event Hubs sign-in with an Entra ID token (SASL OAUTHBEARER), refreshed by logbridge.
    public var entraID: EntraIDSignIn?
    /// Topics (event hubs) to subscribe to; a name starting with `^` is a regular expression.
    public var topics: [String]
    /// The consumer group. Default: `logbridge`.
    public var groupID: String
    /// Default: `earliest`.
    public var startFrom: StartFrom
    /// librdkafka consumer properties, applied last so they override logbridge's defaults.
    public var properties: [String: String]
    /// Records fetched into one batch for the spool before it is handed over. Default: 10,000.
    public var batchMaxRecords: Int
    /// Payload bytes per batch handed to the spool. Default: 4 MiB.
    public var batchMaxBytes: Int
    /// Whether each record's Kafka headers are read and spooled. Only `%kafka.headers.NAME`
    /// reads them, so the configuration loader sets this from whether the file names one
    /// (``KafkaMetadataField``). Reading costs librdkafka an allocation and a free per record even
    /// when the record has no headers (its parser allocates a buffer to read the header count,
    /// which a Kafka v2 record always carries): ~7% of the whole process's CPU with the file sink
    /// (docs/cpu-profile.md, "Kafka headers only when read"). Default: true.
    public var keepsHeaders: Bool

    public init(
        brokers: [String] = [], connectionString: EventHubsConnectionString? = nil, entraID: EntraIDSignIn? = nil, topics: [String],
        groupID: String = "logbridge", startFrom: StartFrom = .earliest, properties: [String: String] = [:],
        batchMaxRecords: Int = 10_000, batchMaxBytes: Int = 4 << 20, keepsHeaders: Bool = true
    ) {
        self.brokers = brokers
        self.connectionString = connectionString
        self.entraID = entraID
        self.topics = topics
        self.groupID = groupID
        self.startFrom = startFrom
        self.properties = properties
        self.batchMaxRecords = batchMaxRecords
        self.batchMaxBytes = batchMaxBytes
        self.keepsHeaders = keepsHeaders
    }

    /// Properties logbridge sets itself because exactly-once depends on them; `properties` may not
    /// change them.
    public static let reservedProperties: Set<String> = [
        "enable.auto.offset.store", "group.id", "bootstrap.servers", "metadata.broker.list", "enable.partition.eof",
    ]

    /// The group session timeout in effect: how long the group waits for a member that stopped
    /// without leaving before it reassigns that member's partitions.
    public var sessionTimeoutMilliseconds: Int { properties["session.timeout.ms"].flatMap { Int($0) } ?? 30_000 }

    /// Whether the source reads from Azure Event Hubs (connection string or Entra ID).
    public var isEventHubs: Bool { connectionString != nil || entraID != nil }

    /// Why `properties` may not set `name` when reading from Event Hubs, or nil. The sign-in,
    /// TLS and certificate checks logbridge sets there are not to be weakened by a property:
    /// a plain-text protocol, another SASL mechanism or a switched-off certificate check would
    /// send the namespace's credential or token where it could be read.
    public static func eventHubsRefusal(_ name: String) -> String? {
        let lowered = name.lowercased()
        if lowered == "security.protocol" || lowered.hasPrefix("sasl.") || lowered == "enable.sasl.oauthbearer.unsecure.jwt" {
            return "sign-in to Event Hubs is set by logbridge (SASL_SSL with the connection string or an Entra ID token) and cannot be changed in properties"
        }
        if lowered == "ssl.endpoint.identification.algorithm" || lowered == "enable.ssl.certificate.verification"
            || lowered.hasPrefix("ssl.ca.") || lowered == "ssl_ca" || lowered.hasPrefix("ssl.crl.")
        {
            return "Event Hubs' certificate is always verified against the system's CAs with its host name checked; this cannot be changed in properties"
        }
        return nil
    }

    /// Microsoft's recommended client settings for Event Hubs' Kafka endpoint, beyond those every
    /// consumer gets (docs/environment.md). `properties` may override them.
    public static let eventHubsDefaults: [(String, String)] = [
        // Event Hubs closes connections idle for 240 s without telling the client; librdkafka
        // applies its own 180 s default only when the bootstrap host name contains "azure",
        // which NAMESPACE.servicebus.windows.net does not.
        ("connections.max.idle.ms", "180000"),
    ]

    /// Properties whose values are secrets: masked in `check` output, never logged.
    public static func isSecretProperty(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered.contains("password") || lowered.contains("secret") || lowered.hasSuffix(".key")
            || lowered.contains("sasl.oauthbearer.config") || lowered.contains("ssl.key")
    }

    /// The librdkafka consumer configuration, in the order it is applied.
    ///
    /// Defaults follow Microsoft's recommendations for Event Hubs (docs/environment.md): keepalive on,
    /// metadata refreshed under Azure's 240 s idle cut-off, long request timeouts, and offsets
    /// committed at most once a second per partition (Event Hubs throttles commits to 4/s).
    public func librdkafkaProperties(clientID: String) -> [(String, String)] {
        var result: [(String, String)] = []
        if let connectionString {
            result += [
                ("bootstrap.servers", connectionString.bootstrapServer),
                ("security.protocol", "SASL_SSL"),
                ("ssl.endpoint.identification.algorithm", "https"),
                ("sasl.mechanisms", "PLAIN"),
                ("sasl.username", "$ConnectionString"),
                ("sasl.password", connectionString.secret),
            ]
        } else if let entraID {
            // The token comes from logbridge's own refresh callback (RDKafkaOAuthBearer), not
            // from librdkafka's `oidc` method, which cannot post a client assertion.
            result += [
                ("bootstrap.servers", entraID.bootstrapServer),
                ("security.protocol", "SASL_SSL"),
                ("ssl.endpoint.identification.algorithm", "https"),
                ("sasl.mechanisms", "OAUTHBEARER"),
            ]
        } else {
            result.append(("bootstrap.servers", brokers.joined(separator: ",")))
        }
        result += [
            ("group.id", groupID),
            ("client.id", clientID),
            ("auto.offset.reset", startFrom.rawValue),
            ("partition.assignment.strategy", "cooperative-sticky"),
            // Offsets are stored by logbridge once the spool transaction is durable, and committed
            // by librdkafka's timer in batches.
            ("enable.auto.commit", "true"),
            ("enable.auto.offset.store", "false"),
            ("auto.commit.interval.ms", "1000"),
            ("enable.partition.eof", "false"),
            ("socket.keepalive.enable", "true"),
            ("metadata.max.age.ms", "180000"),
            // Event Hubs answers slowly under load. Microsoft recommends request.timeout.ms=60000,
            // but librdkafka 2.0.2 ignores that on a consumer and warns at every start ("is a
            // producer property and will be ignored by this consumer instance"); the consumer's
            // request timeout is socket.timeout.ms.
            ("socket.timeout.ms", "60000"),
            ("session.timeout.ms", "30000"),
            ("heartbeat.interval.ms", "3000"),
            ("max.poll.interval.ms", "300000"),
            // Bound prefetched memory: the backlog belongs on disk, not in the fetch queue. With
            // 32 MiB queued, a consumer starting on a full backlog peaked at a median of 115 MiB
            // of anonymous memory (15 runs of 1,000,000 records into /dev/null, up to 146); with
            // 16 MiB, 107 (up to 114) in the same time (docs/cpu-profile.md, "Memory").
            ("queued.max.messages.kbytes", "16384"),
            ("fetch.max.bytes", "16777216"),
        ]
        if isEventHubs { result += Self.eventHubsDefaults }
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            result.append((name, value))
        }
        return result
    }
}
