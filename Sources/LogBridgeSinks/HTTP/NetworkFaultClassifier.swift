import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Turns what async-http-client, NIO and NIOSSL throw for a request that got no answer into an
/// ``EndpointFault``: one of a few cases an operator can act on, instead of a raw BoringSSL error
/// string (which carries the build path of the C file that raised it).
///
/// Where the error alone cannot tell two faults apart, one ``TLSProbe`` handshake decides: an
/// expired certificate from an untrusted one, and an `http://` request to a TLS port from a server
/// that closed the connection.
struct NetworkFaultClassifier: Sendable {
    /// The sink's TLS configuration, for the probe.
    var tls: TLSConfiguration
    var requestTimeout: Duration
    /// The probe's deadline: long enough for a handshake across a WAN, short enough not to hold a
    /// retry for long.
    var probeTimeout: Duration = .seconds(5)
    /// The current time, for telling an expired certificate (a parameter so tests need not wait).
    var now: @Sendable () -> Date = { Date() }

    /// - Parameters:
    ///   - error: what the request threw.
    ///   - url: the endpoint's URL, as configured.
    func classify(_ error: any Error, url: String) async -> EndpointFault {
        let origin = EndpointPool.displayOrigin(url)
        let parsed = try? EndpointURL.parse(url).get()
        let host = parsed?.host ?? "?"
        let port = parsed?.port ?? (parsed?.scheme == "https" ? 443 : 80)
        func fault(_ kind: SinkNetworkFault, _ detail: String? = nil) -> EndpointFault {
            EndpointFault(kind: kind, origin: origin, detail: detail)
        }

        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return fault(.hostnameMismatch)
        }
        let reasons = Self.boringSSLReasons(error)
        if reasons.contains("CERTIFICATE_VERIFY_FAILED") {
            if case .presented(let notBefore, let notAfter) = await TLSProbe.handshake(
                host: host, port: port, configuration: tls, timeout: probeTimeout)
            {
                let now = Int(now().timeIntervalSince1970)
                if now > notAfter { return fault(.certificateExpired, "valid until \(Self.date(notAfter))") }
                if now < notBefore { return fault(.certificateExpired, "valid from \(Self.date(notBefore))") }
            }
            return fault(.certificateUntrusted)
        }
        // The server's alert about our certificate: none sent (TLS 1.3 `certificate_required`,
        // TLS 1.2 `handshake_failure`), or one it does not accept.
        let clientCertificateAlerts = [
            "TLSV1_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_HANDSHAKE_FAILURE", "SSLV3_ALERT_BAD_CERTIFICATE",
            "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "TLSV1_ALERT_ACCESS_DENIED",
            "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED", "SSLV3_ALERT_CERTIFICATE_REVOKED",
            "TLSV1_ALERT_DECRYPT_ERROR",
        ]
        if reasons.contains(where: clientCertificateAlerts.contains) { return fault(.clientCertificateRequired) }
        // What BoringSSL makes of an HTTP answer ("HTTP/1.1 400") where a TLS record should be.
        if reasons.contains(where: ["WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL"].contains) {
            return fault(.tlsToPlainPort)
        }
        if !reasons.isEmpty { return fault(.other, "TLS handshake failed: \(reasons.joined(separator: ", "))") }

        if Self.isRefused(error) { return fault(.connectionRefused) }
        if Self.isUnknownHost(error) { return fault(.hostNotFound) }
        if Self.isTimeout(error) { return fault(.timeout, "request_timeout \(requestTimeout)") }
        if parsed?.scheme == "http", Self.isDroppedWithoutAnswer(error) {
            // A TLS server drops a plain request without an answer a client can read: it closes
            // or, with the request body still arriving, resets the connection.
            switch await TLSProbe.handshake(host: host, port: port, configuration: tls, timeout: probeTimeout) {
            case .presented, .spokeTLS: return fault(.plainToTLSPort)
            case .noTLS: break
            }
        }
        return fault(.other, EndpointFault.safeDetail(error))
    }

    /// The reason names (`CERTIFICATE_VERIFY_FAILED`) of the BoringSSL errors inside `error`,
    /// without their codes and source locations.
    static func boringSSLReasons(_ error: any Error) -> [String] {
        let stack: [BoringSSLInternalError]
        switch error {
        case NIOSSLError.handshakeFailed(.sslError(let errors)), NIOSSLError.shutdownFailed(.sslError(let errors)):
            stack = errors
        case BoringSSLError.sslError(let errors), BoringSSLError.unknownError(let errors):
            stack = errors
        default:
            return []
        }
        // "Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at /…/handshake.cc:320"
        return stack.compactMap { entry in
            let text = entry.description
            guard let start = text.range(of: "error:") else { return nil }
            let fields = text[start.upperBound...].split(separator: ":", maxSplits: 3)
            guard fields.count == 4 else { return nil }
            return fields[3].split(separator: " ").first.map(String.init)
        }
    }

    private static func isRefused(_ error: any Error) -> Bool {
        if let io = error as? IOError { return io.errnoCode == ECONNREFUSED }
        if let connection = error as? NIOConnectionError {
            return connection.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
        }
        return false
    }

    private static func isUnknownHost(_ error: any Error) -> Bool {
        if error is SocketAddressError.UnknownHost { return true }
        if let connection = error as? NIOConnectionError {
            return connection.connectionErrors.isEmpty && (connection.dnsAError != nil || connection.dnsAAAAError != nil)
        }
        return false
    }

    private static func isDroppedWithoutAnswer(_ error: any Error) -> Bool {
        if let http = error as? HTTPClientError { return http == .remoteConnectionClosed || http == .uncleanShutdown }
        if let io = error as? IOError { return io.errnoCode == ECONNRESET || io.errnoCode == EPIPE }
        return false
    }

    private static func isTimeout(_ error: any Error) -> Bool {
        if let http = error as? HTTPClientError {
            return [.connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout].contains(http)
        }
        if case ChannelError.connectTimeout = error { return true }
        if let connection = error as? NIOConnectionError {
            return !connection.connectionErrors.isEmpty && connection.connectionErrors.allSatisfy {
                if case ChannelError.connectTimeout = $0.error { return true }
                return ($0.error as? IOError)?.errnoCode == ETIMEDOUT
            }
        }
        return (error as? IOError)?.errnoCode == ETIMEDOUT
    }

    static func date(_ secondsSinceEpoch: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(secondsSinceEpoch)))
    }
}
