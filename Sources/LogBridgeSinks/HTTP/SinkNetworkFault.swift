import Foundation
import NIOCore

/// Why a request to a sink endpoint got no HTTP answer, in the terms an operator fixes it in:
/// each case names what is wrong and the setting (or URL part) to check.
///
/// The raw values are the `fault` label of `logbridge_sink_endpoint_fault` and the `fault` field
/// of `logbridge status --json`: a public contract, extend but never rename.
public enum SinkNetworkFault: String, Sendable, CaseIterable, Equatable {
    /// The server's certificate chain does not lead to a CA the sink trusts.
    case certificateUntrusted = "certificate_untrusted"
    /// The certificate is trusted but does not name the endpoint's host.
    case hostnameMismatch = "hostname_mismatch"
    /// The certificate's validity has ended (or not begun).
    case certificateExpired = "certificate_expired"
    /// The server rejected the handshake over the client certificate: none sent, or one it does
    /// not trust.
    case clientCertificateRequired = "client_certificate_required"
    /// Nothing listens on the port.
    case connectionRefused = "connection_refused"
    /// The host name does not resolve.
    case hostNotFound = "host_not_found"
    /// An `https://` endpoint whose port speaks plain HTTP.
    case tlsToPlainPort = "tls_to_plain_port"
    /// An `http://` endpoint whose port expects TLS.
    case plainToTLSPort = "plain_to_tls_port"
    /// No answer within `request_timeout` (or no connection within the connect timeout).
    case timeout
    /// Anything else (a reset connection, a malformed answer).
    case other

    /// What is wrong, in a few words.
    public var summary: String {
        switch self {
        case .certificateUntrusted: "TLS certificate not trusted (no trusted CA issued it)"
        case .hostnameMismatch: "TLS certificate does not name the endpoint's host"
        case .certificateExpired: "TLS certificate expired or not valid yet"
        case .clientCertificateRequired: "TLS handshake rejected by the server: it requires a client certificate it trusts"
        case .connectionRefused: "connection refused (nothing listens on the port)"
        case .hostNotFound: "host name not found (DNS)"
        case .tlsToPlainPort: "TLS sent to a port that speaks plain HTTP"
        case .plainToTLSPort: "plain HTTP sent to a port that expects TLS"
        case .timeout: "no answer in time"
        case .other: "request failed"
        }
    }

    /// What to check or change.
    public var fix: String {
        switch self {
        case .certificateUntrusted:
            "set tls.ca_file to the PEM file of the CA that issued the server's certificate"
        case .hostnameMismatch:
            "use a host name the certificate holds in the endpoint URL, or set tls.verify_hostname: false to check the CA chain only"
        case .certificateExpired:
            "renew the server's certificate (and check this machine's clock)"
        case .clientCertificateRequired:
            "set tls.cert_file and tls.key_file to a client certificate (PEM) issued by a CA the server trusts"
        case .connectionRefused:
            "check the port in the endpoint URL and that the server is running"
        case .hostNotFound:
            "check the host in the endpoint URL and this machine's DNS"
        case .tlsToPlainPort:
            "use http:// in the endpoint URL, or the server's TLS port"
        case .plainToTLSPort:
            "use https:// in the endpoint URL"
        case .timeout:
            "check the network path (firewall, proxy), the server's load and request_timeout"
        case .other:
            "check the endpoint URL and the network path"
        }
    }
}

/// One endpoint's network fault: the classification, the endpoint's origin and, where it helps,
/// a detail (the certificate's end date, the host name). Never holds credentials or paths: the
/// origin is `scheme://host:port` only, and details are built from classified facts, not from raw
/// error text.
public struct EndpointFault: Sendable, Equatable {
    public var kind: SinkNetworkFault
    /// `scheme://host:port` of the endpoint.
    public var origin: String
    public var detail: String?

    public init(kind: SinkNetworkFault, origin: String, detail: String? = nil) {
        self.kind = kind
        self.origin = origin
        self.detail = detail
    }

    /// One line: the endpoint, what is wrong, and what to check.
    public var message: String {
        "\(origin): \(kind.summary)\(detail.map { " (\($0))" } ?? ""); \(kind.fix)"
    }
}

extension EndpointFault {
    /// A description of an unclassified error with no file paths in it: library errors may quote
    /// the source file that raised them, which tells an operator nothing and leaks build details.
    public static func safeDetail(_ error: any Error) -> String {
        var text = String(describing: error)
        if let io = error as? IOError { text = String(cString: strerror(io.errnoCode)) }
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map { word -> Substring in
            word.contains("/") && (word.hasPrefix("/") || word.contains("/Sources/")) ? "(path)" : word
        }
        return String(words.joined(separator: " ").replacingOccurrences(of: "BoringSSL", with: "TLS").prefix(200))
    }
}
