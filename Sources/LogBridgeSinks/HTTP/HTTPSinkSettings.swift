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

    /// TLS for `https://` endpoints: TLS 1.2 at least, the certificate chain and the host name
    /// verified unless switched off explicitly, each on its own.
    public struct TLS: Sendable, Equatable {
        /// PEM bundle of the CA(s) to trust instead of the system store.
        public var caFile: String?
        /// Client certificate and key (PEM) for mutual TLS.
        public var certFile: String?
        public var keyFile: String?
        /// `tls.verify`: check the certificate chain (and, with `verifyHostname`, the host name).
        /// Default: true.
        public var verify: Bool
        /// `tls.verify_hostname`: check that the certificate names the endpoint's host. False keeps
        /// the chain check (a private CA whose certificates name other hosts). Default: true.
        public var verifyHostname: Bool

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, verify: Bool = true, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.verify = verify
            self.verifyHostname = verifyHostname
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
    /// The most bytes of a response body read; the rest is not read (the connection is closed)
    /// and the response is marked truncated. Sink answers are statuses and error reasons: a body
    /// beyond this is a sink misbehaving, and must not hold memory. Default: 4 MiB.
    public var maxResponseBytes = 4 << 20
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
