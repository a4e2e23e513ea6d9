/// Sign-in to an Event Hubs namespace with a Microsoft Entra ID access token (SASL OAUTHBEARER),
/// for namespaces whose shared-key (SAS) sign-in is disabled.
///
/// logbridge fetches the token itself from `{authorityHost}{tenantID}/oauth2/v2.0/token` and hands
/// it to librdkafka (librdkafka 2.0.2's built-in `oidc` method cannot post a client assertion).
public struct EntraIDSignIn: Sendable, Equatable {
    /// How logbridge proves who it is to Entra ID.
    public enum Credential: Sendable, Equatable, CustomStringConvertible {
        /// An application's client secret (`grant_type=client_credentials`, `client_secret`).
        case clientSecret(String)
        /// AKS workload identity: the federated token in this file (rotated by the kubelet, so
        /// read again at each refresh) is posted as a `client_assertion`.
        case workloadIdentity(federatedTokenFile: String)

        /// Never the secret: a configuration printed into a log or an error stays safe.
        public var description: String {
            switch self {
            case .clientSecret: return "clientSecret(********)"
            case .workloadIdentity(let file): return "workloadIdentity(federatedTokenFile: \(file))"
            }
        }
    }

    /// `NAMESPACE.servicebus.windows.net` (or a sovereign cloud's equivalent).
    public var namespaceHost: String
    /// The directory (tenant) id.
    public var tenantID: String
    /// The application (client) id; also the principal name handed to librdkafka.
    public var clientID: String
    public var credential: Credential
    /// The Entra ID authority, ending with `/`. Default: `https://login.microsoftonline.com/`.
    public var authorityHost: String
    /// The token's scope. Default: `https://NAMESPACE.servicebus.windows.net/.default`.
    public var scope: String

    /// The public cloud's authority.
    public static let defaultAuthorityHost = "https://login.microsoftonline.com/"

    public init(
        namespaceHost: String, tenantID: String, clientID: String, credential: Credential,
        authorityHost: String = EntraIDSignIn.defaultAuthorityHost, scope: String? = nil
    ) {
        self.namespaceHost = namespaceHost
        self.tenantID = tenantID
        self.clientID = clientID
        self.credential = credential
        self.authorityHost = authorityHost.hasSuffix("/") ? authorityHost : authorityHost + "/"
        self.scope = scope ?? "https://\(namespaceHost)/.default"
    }

    /// `NAMESPACE.servicebus.windows.net:9093`, the Kafka endpoint.
    public var bootstrapServer: String { "\(namespaceHost):9093" }

    /// The token endpoint (tenant id in the path, as Entra ID expects).
    public var tokenEndpoint: String { "\(authorityHost)\(tenantID)/oauth2/v2.0/token" }

    /// The full host name for a namespace written as `NAMESPACE` or as its host name.
    public static func namespaceHost(_ written: String) -> String {
        written.contains(".") ? written.lowercased() : "\(written.lowercased()).servicebus.windows.net"
    }

    /// Why an authority host cannot be used, or nil. `https://` only, except `http://` to this
    /// machine (a local fake endpoint in tests): a token request carries the client secret.
    public static func authorityHostProblem(_ text: String) -> String? {
        let lowered = text.lowercased()
        if lowered.hasPrefix("https://") {
            let host = lowered.dropFirst(8).split(separator: "/", maxSplits: 1).first ?? ""
            return host.isEmpty ? "has no host name" : nil
        }
        if lowered.hasPrefix("http://") {
            let authority = lowered.dropFirst(7).split(separator: "/", maxSplits: 1).first ?? ""
            let host = authority.split(separator: ":").first.map(String.init) ?? ""
            if host == "127.0.0.1" || host == "localhost" { return nil }
            return "must use https:// (http:// is accepted only for 127.0.0.1 or localhost: the request carries the credential)"
        }
        return "must be a URL starting with https://"
    }
}
