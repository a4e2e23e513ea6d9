import DequeModule
import Foundation
import Synchronization

/// Entra ID's v2.0 token endpoint (`POST /{tenant}/oauth2/v2.0/token`) for one tenant and one
/// application, checking what Entra ID checks for the client-credentials grant and failing the way
/// it fails: a JSON body with `error`, `error_description` starting with the AADSTS code, and
/// `error_codes`.
///
/// Checks, in Entra ID's order: POST only (AADSTS900561); `Content-Type:
/// application/x-www-form-urlencoded`; the tenant in the path (AADSTS90002); `grant_type`
/// present (AADSTS900144) and `client_credentials` (AADSTS70003); the application id
/// (AADSTS700016); a scope ending with `/.default` (AADSTS1002012) for the expected resource
/// (AADSTS500011); then the credential: `client_secret` (wrong: 401 AADSTS7000215), or
/// `client_assertion` with `client_assertion_type` jwt-bearer matching the federated token
/// currently expected (AADSTS700027 for another type, AADSTS70021 for another token); neither:
/// AADSTS7000216. Issued tokens are base64url JWT-shaped strings, distinct each time.
public final class FakeEntraTokenEndpoint: Sendable {
    public struct Options: Sendable {
        public var tenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
        public var clientID = "0f4c8a9e-3b1d-4e5f-9a2b-7c6d5e4f3a2b"
        public var clientSecret: String? = "fake-client-secret~value.1234"
        /// The federated token a workload-identity request must carry (nil: not configured).
        public var federatedToken: String?
        /// The resource the scope must name.
        public var resource = "https://contoso.servicebus.windows.net"
        /// `expires_in` of issued tokens, in seconds.
        public var expiresIn = 3599
        public init() {}
    }

    /// One request as the endpoint received it.
    public struct Received: Sendable {
        public var method: String
        public var path: String
        public var contentType: String?
        public var form: [String: String]
        /// Field names in the order they were posted.
        public var fieldOrder: [String]
    }

    public enum Fault: Sendable {
        /// Answer with this status and Entra-style error body.
        case status(Int, error: String, code: Int, description: String)
        /// Close the connection without answering.
        case drop
    }

    private struct State {
        var options: Options
        var received: [Received] = []
        var issued: [String] = []
        var faults: Deque<Fault> = []
        var alwaysFail: Fault?
    }

    private final class Store: Sendable {
        let state: Mutex<State>
        init(_ options: Options) { state = Mutex(State(options: options)) }
    }

    private let store: Store
    private let server: FakeHTTPServer
    /// `http://127.0.0.1:PORT/`, for `authority_host`.
    public var authorityHost: String { server.url + "/" }

    public init(options: Options = Options()) async throws {
        let store = Store(options)
        self.store = store
        server = try await FakeHTTPServer { request in FakeEntraTokenEndpoint.answer(request, store) }
    }

    public func shutdown() async { await server.shutdown() }

    public var received: [Received] { store.state.withLock { $0.received } }
    /// Access tokens issued, in order.
    public var issued: [String] { store.state.withLock { $0.issued } }

    /// Changes the federated token expected from now on (the kubelet rotated it).
    public func expectFederatedToken(_ token: String) { store.state.withLock { $0.options.federatedToken = token } }
    public func setExpiresIn(_ seconds: Int) { store.state.withLock { $0.options.expiresIn = seconds } }
    /// The next requests fail with these, one each.
    public func inject(_ faults: Fault...) { store.state.withLock { $0.faults += faults } }
    /// Every request fails with `fault` until cleared with nil.
    public func failAlways(_ fault: Fault?) { store.state.withLock { $0.alwaysFail = fault } }

    private static func error(_ status: Int, _ error: String, _ code: Int, _ text: String) -> FakeHTTPServer.Reply {
        let description = "AADSTS\(code): \(text)\r\nTrace ID: 0f1e2d3c-0000-4000-8000-000000000000\r\nCorrelation ID: 9a8b7c6d-0000-4000-8000-000000000000\r\nTimestamp: 2026-12-03 12:00:00Z"
        let body: [String: Any] = [
            "error": error, "error_description": description, "error_codes": [code],
            "timestamp": "2026-12-03 12:00:00Z", "trace_id": "0f1e2d3c-0000-4000-8000-000000000000",
            "correlation_id": "9a8b7c6d-0000-4000-8000-000000000000", "error_uri": "https://login.microsoftonline.com/error?code=\(code)",
        ]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return .respond(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(data))
    }

    private static func answer(_ request: FakeHTTPServer.Request, _ store: Store) -> FakeHTTPServer.Reply {
        let (form, order) = parseForm(request.body)
        let received = Received(
            method: request.method, path: request.path, contentType: request.header("Content-Type"), form: form, fieldOrder: order)
        let (options, fault) = store.state.withLock { state -> (Options, Fault?) in
            state.received.append(received)
            let fault = state.faults.isEmpty ? state.alwaysFail : state.faults.removeFirst()
            return (state.options, fault)
        }
        switch fault {
        case .drop: return .drop
        case .status(let status, let error, let code, let description): return Self.error(status, error, code, description)
        case nil: break
        }
        guard request.method == "POST" else {
            return error(400, "invalid_request", 900561, "The endpoint only accepts POST requests. Received a \(request.method) request.")
        }
        let contentType = (request.header("Content-Type") ?? "").lowercased()
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            return error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count == 4, parts[1] == "oauth2", parts[2] == "v2.0", parts[3] == "token" else {
            return .respond(status: 404, headers: [], body: Array("not found".utf8))
        }
        guard parts[0] == options.tenantID else {
            return error(400, "invalid_request", 90002, "Tenant '\(parts[0])' not found. Check to make sure you have the correct tenant ID.")
        }
        guard let grant = form["grant_type"] else {
            return error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
        }
        guard grant == "client_credentials" else {
            return error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '\(grant)'.")
        }
        guard let client = form["client_id"] else {
            return error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
        }
        guard client == options.clientID else {
            return error(400, "unauthorized_client", 700016, "Application with identifier '\(client)' was not found in the directory.")
        }
        guard let scope = form["scope"] else {
            return error(400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'.")
        }
        guard scope.hasSuffix("/.default") else {
            return error(400, "invalid_scope", 1002012, "The provided value for scope \(scope) is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
        }
        guard String(scope.dropLast("/.default".count)) == options.resource else {
            return error(400, "invalid_resource", 500011, "The resource principal named \(scope.dropLast("/.default".count)) was not found in the tenant.")
        }
        if let secret = form["client_secret"] {
            guard let expected = options.clientSecret, secret == expected else {
                return error(401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(options.clientID)'.")
            }
        } else if let assertion = form["client_assertion"] {
            guard form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else {
                return error(400, "invalid_request", 700027, "Client assertion failed signature validation.")
            }
            guard let expected = options.federatedToken, assertion == expected else {
                return error(400, "invalid_request", 70021, "No matching federated identity record found for presented assertion.")
            }
        } else {
            return error(400, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
        }
        let token = store.state.withLock { state -> String in
            let token = Self.makeToken(index: state.issued.count, audience: options.resource)
            state.issued.append(token)
            return token
        }
        let body: [String: Any] = ["token_type": "Bearer", "expires_in": options.expiresIn, "ext_expires_in": options.expiresIn, "access_token": token]
        let data = (try? JSONSerialization.data(withJSONObject: body)) ?? Data()
        return .respond(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(data))
    }

    /// A JWT-shaped token (header.payload.signature, base64url), distinct per index.
    static func makeToken(index: Int, audience: String) -> String {
        func segment(_ text: String) -> String {
            Data(text.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return segment(#"{"typ":"JWT","alg":"RS256"}"#) + "." + segment(#"{"aud":"\#(audience)","n":\#(index)}"#) + "." + segment("signature-\(index)")
    }

    /// Decodes an `application/x-www-form-urlencoded` body.
    static func parseForm(_ body: [UInt8]) -> ([String: String], [String]) {
        var form: [String: String] = [:]
        var order: [String] = []
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(kv[0])
            form[name] = kv.count > 1 ? decode(kv[1]) : ""
            order.append(name)
        }
        return (form, order)
    }

    private static func decode(_ text: Substring) -> String {
        (text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding) ?? String(text)
    }
}
