/// What every HTTP sink shares: where to send, how to authenticate, compress and secure it.
public struct HTTPSinkSettings: Sendable, Equatable {
    public enum Compression: String, Sendable, CaseIterable { case none, gzip }

    /// Credentials, sent on every request.
    public enum Authentication: Sendable, Equatable {
        case none
        /// `Authorization: Basic base64(user:password)`.
        case basic(user: String, password: String)
        /// `Authorization: Bearer <token>`.
        case bearer(String)
        /// Any other header: `Authorization: ApiKey <key>` (Elasticsearch), `Authorization: Splunk <token>` (HEC).
        case header(name: String, value: String)
    }

    /// TLS for `https://` endpoints. Verification is on unless `verify` is explicitly false.
    public struct TLS: Sendable, Equatable {
        /// PEM bundle of the CA(s) to trust instead of the system store.
        public var caFile: String?
        /// Client certificate and key (PEM) for mutual TLS.
        public var certFile: String?
        public var keyFile: String?
        public var verify: Bool

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, verify: Bool = true) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.verify = verify
        }
    }

    /// Base URLs (`https://es1:9200`); batches go round robin to the healthy ones.
    public var endpoints: [String]
    public var authentication: Authentication
    /// Default: none.
    public var compression: Compression
    public var tls: TLS
    /// One request's deadline, connection included. Default: 30 s.
    public var requestTimeout: Duration
    /// Consecutive failures after which an endpoint is taken out of rotation. Default: 3.
    public var ejectAfterFailures: Int
    /// How long an ejected endpoint stays out before one probe request; doubles on each failed
    /// probe up to 2 minutes. Default: 5 s.
    public var ejectionTime: Duration
    /// The longest wait between retries of a failed request (backoff doubles up to it). Default: 30 s.
    public var maxBackoff: Duration = .seconds(30)
    /// `concurrency: adaptive`: the most requests AIMD may keep in flight; nil for a fixed
    /// `concurrency`.
    public var adaptiveConcurrencyMaximum: Int?

    public init(
        endpoints: [String], authentication: Authentication = .none, compression: Compression = .none,
        tls: TLS = TLS(), requestTimeout: Duration = .seconds(30), ejectAfterFailures: Int = 3,
        ejectionTime: Duration = .seconds(5)
    ) {
        self.endpoints = endpoints
        self.authentication = authentication
        self.compression = compression
        self.tls = tls
        self.requestTimeout = requestTimeout
        self.ejectAfterFailures = ejectAfterFailures
        self.ejectionTime = ejectionTime
    }
}
