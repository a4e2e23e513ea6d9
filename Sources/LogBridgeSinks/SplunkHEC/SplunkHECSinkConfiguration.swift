/// `type: splunk_hec`: the HTTP Event Collector's event endpoint with indexer acknowledgements.
public struct SplunkHECSinkConfiguration: Sendable, Equatable {
    /// An indexed field (`fields` in the event), rendered per record.
    public struct IndexedField: Sendable, Equatable {
        public var name: String
        public var template: FieldTemplate

        public init(name: String, template: FieldTemplate) {
            self.name = name
            self.template = template
        }
    }

    /// Endpoints, TLS and compression; authentication is `Authorization: Splunk <token>`.
    public var http: HTTPSinkSettings
    /// Event metadata, fixed or templated from event fields (`{kubernetes.host}`); nil leaves it
    /// to the token's defaults.
    public var host: FieldTemplate?
    public var source: FieldTemplate?
    public var sourcetype: FieldTemplate?
    public var index: FieldTemplate?
    /// Extra indexed fields; `event_id` (topic-partition-offset) is always added.
    public var fields: [IndexedField]
    /// Wait for indexer acknowledgement before moving the cursor. Default: true.
    public var acknowledgements: Bool
    /// How often outstanding acknowledgements are polled. Default: 10 s.
    public var ackPollInterval: Duration
    /// How long a batch may stay unacknowledged before it is sent again (duplicates possible:
    /// HEC has no server-side de-duplication; search with `dedup event_id`). Default: 300 s.
    public var ackTimeout: Duration
    /// After a restart, how long the acknowledgements restored from the spool may stay
    /// unconfirmed before their records are sent again (at most `ackTimeout`). Short, because a
    /// crash between Splunk answering `true` and the spool noting it leaves an ack id Splunk has
    /// already forgotten: it answers `false` for it forever. Default: 60 s.
    public var restoredAckTimeout: Duration = .seconds(60)
    /// Batches sent and waiting for their acknowledgement at once. Default: 1000.
    public var maxPendingAcks: Int
    /// Event endpoint path, one of ``eventPaths``. Default: `/services/collector/event`.
    public var path: String

    /// The endpoints that take the JSON event objects this sink sends. Splunk serves the same
    /// handler under all three; `/services/collector/raw` takes unframed bytes instead and would
    /// index each batch's JSON text as the event (see ``pathProblem(_:)``).
    public static let eventPaths: [String] = ["/services/collector", "/services/collector/event", "/services/collector/event/1.0"]

    /// Why `path` is refused, for `check`: the raw endpoint is named as such, anything else gets
    /// the list of accepted paths.
    public static func pathProblem(_ path: String) -> String {
        let accepted = "use one of " + eventPaths.joined(separator: ", ") + ", or leave path out for /services/collector/event"
        if path.hasPrefix("/services/collector/raw") {
            return "the raw endpoint is not supported: this sink sends JSON event objects (with time, host, source, sourcetype, index and fields), which /services/collector/raw would index as the text of one event per line; \(accepted)"
        }
        return "'\(path)' is not a HEC event endpoint; \(accepted)"
    }

    public init(
        http: HTTPSinkSettings, host: FieldTemplate? = nil, source: FieldTemplate? = nil,
        sourcetype: FieldTemplate? = nil, index: FieldTemplate? = nil, fields: [IndexedField] = [],
        acknowledgements: Bool = true, ackPollInterval: Duration = .seconds(10), ackTimeout: Duration = .seconds(300),
        maxPendingAcks: Int = 1000, path: String = "/services/collector/event"
    ) {
        self.http = http
        self.host = host
        self.source = source
        self.sourcetype = sourcetype
        self.index = index
        self.fields = fields
        self.acknowledgements = acknowledgements
        self.ackPollInterval = ackPollInterval
        self.ackTimeout = ackTimeout
        self.maxPendingAcks = maxPendingAcks
        self.path = path
    }

    /// Sets the HEC token as the `Authorization: Splunk` header.
    public mutating func setToken(_ token: String) {
        http.authentication = .header(name: "Authorization", value: "Splunk \(token)")
    }
}
