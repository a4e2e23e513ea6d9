import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LogBridgeCore
import NIOCore
import NIOHTTP1

/// An access token and when it stops being valid.
public struct AccessToken: Sendable {
    /// The token (a JWT); a secret: never logged.
    public var value: String
    /// Lifetime from Entra ID's `expires_in`, counted from when the answer arrived.
    public var lifetime: Duration
    public var receivedAt: ContinuousClock.Instant
    /// Wall-clock expiry, for librdkafka (milliseconds since 1970).
    public var expiresAtMilliseconds: Int64

    public var expiresAt: ContinuousClock.Instant { receivedAt + lifetime }
}

/// Why a token could not be obtained. The text names the HTTP status and Entra ID's error code
/// (`AADSTS7000215`, `invalid_client`), never the credential or a token.
public struct EntraTokenError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    /// Entra ID's first `error_codes` entry, as `AADSTS<code>`, when it answered with one.
    public var code: String?
    /// The HTTP status, when Entra ID answered.
    public var status: Int?
}

/// Requests tokens from Entra ID's v2.0 token endpoint (client credentials, or a federated
/// client assertion for workload identity).
///
/// A request is bounded: ``requestTimeout`` for the whole answer and ``maxResponseBytes`` of body
/// (a token answer is a few KiB). The answer is parsed with Foundation's JSONDecoder: once an hour,
/// not per event.
public struct EntraTokenClient: Sendable {
    public let signIn: EntraIDSignIn
    public var requestTimeout: Duration
    public static let maxResponseBytes = 256 << 10
    /// Federated token files are JWTs of a few KiB.
    static let maxFederatedTokenBytes = 64 << 10

    public init(signIn: EntraIDSignIn, requestTimeout: Duration = .seconds(30)) {
        self.signIn = signIn
        self.requestTimeout = requestTimeout
    }

    /// The form fields posted for the configured credential (the federated token read now).
    /// - Throws: ``EntraTokenError`` when the federated token file cannot be read.
    public func formFields() throws(EntraTokenError) -> [(String, String)] {
        var fields: [(String, String)] = [("client_id", signIn.clientID), ("scope", signIn.scope)]
        switch signIn.credential {
        case .clientSecret(let secret):
            fields.insert(("grant_type", "client_credentials"), at: 0)
            fields.append(("client_secret", secret))
        case .workloadIdentity(let file):
            fields.insert(("grant_type", "client_credentials"), at: 0)
            fields.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            fields.append(("client_assertion", try Self.readFederatedToken(file)))
        }
        return fields
    }

    /// `application/x-www-form-urlencoded`: every byte outside the unreserved set percent-encoded.
    public static func encodeForm(_ fields: [(String, String)]) -> String {
        fields.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    static func readFederatedToken(_ path: String) throws(EntraTokenError) -> String {
        // A regular file only (the kubelet's projection is a symbolic link to one): a FIFO or a
        // device would block the task or never end.
        switch SecretFile.read(path, limit: maxFederatedTokenBytes) {
        case .failure(let problem):
            throw EntraTokenError(description: "cannot read the federated token file \(path) (AZURE_FEDERATED_TOKEN_FILE): \(problem)")
        case .success(let contents):
            let token = String(decoding: contents.bytes, as: UTF8.self).trimmingWhitespace()
            guard !token.isEmpty else { throw EntraTokenError(description: "the federated token file \(path) is empty") }
            return token
        }
    }

    /// Requests a token.
    /// - Throws: ``EntraTokenError`` naming the HTTP status and Entra ID's error, or the transport
    ///   failure.
    public func fetch(using client: HTTPClient) async throws(EntraTokenError) -> AccessToken {
        let fields = try formFields()
        var request = HTTPClientRequest(url: signIn.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.encodeForm(fields)))
        let secrets = fields.filter { $0.0 == "client_secret" || $0.0 == "client_assertion" }.map(\.1)
        let status: Int
        let body: [UInt8]
        do {
            (status, body) = try await execute(request, client: client)
        } catch {
            throw EntraTokenError(description: "token request to \(signIn.tokenEndpoint) failed: \(Self.scrub("\(error)", secrets))")
        }
        return try Self.parse(status: status, body: body, endpoint: signIn.tokenEndpoint, secrets: secrets)
    }

    private func execute(_ request: HTTPClientRequest, client: HTTPClient) async throws -> (Int, [UInt8]) {
        let deadline = ContinuousClock.now + requestTimeout
        let timeout = requestTimeout
        return try await withThrowingTaskGroup(of: (Int, [UInt8])?.self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                var body: [UInt8] = []
                for try await chunk in response.body {
                    guard body.count + chunk.readableBytes <= Self.maxResponseBytes else {
                        throw EntraTokenError(description: "answer over \(Self.maxResponseBytes) bytes", status: Int(response.status.code))
                    }
                    body += chunk.readableBytesView
                }
                return (Int(response.status.code), body)
            }
            group.addTask {
                try await Task.sleep(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else {
                throw EntraTokenError(description: "no answer within \(timeout)")
            }
            return answer
        }
    }

    private struct Success: Decodable {
        var access_token: String?
        var expires_in: FlexibleInt?
        var token_type: String?
    }

    private struct Failure: Decodable {
        var error: String?
        var error_description: String?
        var error_codes: [Int]?
    }

    /// `expires_in` is a number in v2.0 answers and a string in some older ones.
    private struct FlexibleInt: Decodable {
        var value: Int
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) {
                value = number
            } else if let text = try? container.decode(String.self), let number = Int(text) {
                value = number
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expires_in is not a number")
            }
        }
    }

    /// Reads a token endpoint's answer.
    static func parse(status: Int, body: [UInt8], endpoint: String, secrets: [String]) throws(EntraTokenError) -> AccessToken {
        let decoder = JSONDecoder()
        guard (200..<300).contains(status) else {
            let failure = try? decoder.decode(Failure.self, from: Data(body))
            let code = failure?.error_codes?.first.map { "AADSTS\($0)" }
            var parts = ["HTTP \(status)"]
            if let error = failure?.error { parts.append(error) }
            if let description = failure?.error_description {
                // Entra ID's description starts with the AADSTS code and one sentence; its trace
                // and correlation ids follow on later lines.
                let first = description.split(whereSeparator: \.isNewline).first.map(String.init) ?? description
                parts.append(String(first.prefix(240)))
            } else if let code {
                parts.append(code)
            }
            throw EntraTokenError(
                description: "token endpoint \(endpoint) refused: \(scrub(parts.joined(separator: ": "), secrets))", code: code, status: status)
        }
        guard let success = try? decoder.decode(Success.self, from: Data(body)), let token = success.access_token, !token.isEmpty else {
            throw EntraTokenError(description: "token endpoint \(endpoint) answered HTTP \(status) without an access_token", status: status)
        }
        guard let expiresIn = success.expires_in?.value, expiresIn > 0 else {
            throw EntraTokenError(description: "token endpoint \(endpoint) answered without a positive expires_in", status: status)
        }
        let now = Date()
        return AccessToken(
            value: token, lifetime: .seconds(expiresIn), receivedAt: .now,
            expiresAtMilliseconds: Int64(now.timeIntervalSince1970 * 1000) + Int64(expiresIn) * 1000)
    }

    /// Replaces any credential a text could carry (a server echoing the request) by `***`.
    static func scrub(_ text: String, _ secrets: [String]) -> String {
        var result = text
        for secret in secrets where secret.count >= 4 {
            result = result.replacingOccurrences(of: secret, with: "***")
            result = result.replacingOccurrences(of: percentEncode(secret), with: "***")
        }
        return result
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
