import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A response, read whole (sink responses are small: statuses and error reasons).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    public var bodyText: String { String(decoding: body.prefix(4096), as: UTF8.self) }
}

/// The request never got a response: connection refused or reset, TLS failure, timeout.
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    public var endpoint: String
    public var message: String
    public var description: String { "\(endpoint): \(message)" }
}

/// Sends sink requests through async-http-client (connection pooling, keep-alive, TLS), adding
/// authentication and compression the same way for every sink.
public final class HTTPTransport: Sendable {
    private let client: HTTPClient
    private let settings: HTTPSinkSettings
    private let authorization: (name: String, value: String)?

    /// - Throws: when a TLS file cannot be read.
    public init(settings: HTTPSinkSettings, logger: Logger) throws {
        self.settings = settings
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = settings.tls.caFile {
            tls.trustRoots = .file(ca)
        }
        if let cert = settings.tls.certFile, let key = settings.tls.keyFile {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        if !settings.tls.verify {
            tls.certificateVerification = .none
            logger.warning("TLS certificate verification is off (tls.verify: false): the sink cannot tell its endpoints from impostors")
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // TimeAmount(Duration) truncates and clamps: converting through Int64 seconds traps past
        // ~292 years and rounded 500ms down to a read timeout of zero.
        configuration.timeout = .init(connect: .seconds(10), read: TimeAmount(settings.requestTimeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        // A refused or failed connection is reported at once, so the endpoint pool (not the
        // client's own retry loop) decides where the batch goes next.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .enabled(limit: .ratio(50))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        switch settings.authentication {
        case .none: authorization = nil
        case .basic(let user, let password):
            authorization = ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        case .bearer(let token): authorization = ("Authorization", "Bearer \(token)")
        case .header(let name, let value): authorization = (name, value)
        }
    }

    /// POSTs `body` to `endpoint` + `path`, compressed as configured (unless `compress` is false).
    public func post(
        _ endpoint: EndpointPool.Endpoint, path: String, contentType: String, body: [UInt8],
        headers extra: [(String, String)] = [], compress: Bool = true
    ) async throws(HTTPTransportError) -> HTTPResponse {
        var request = HTTPClientRequest(url: Self.join(endpoint.url, path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        let payload: [UInt8]
        switch (settings.compression, compress) {
        case (.gzip, true):
            payload = Gzip.compress(body, level: 1)
            request.headers.add(name: "Content-Encoding", value: "gzip")
        default:
            payload = body
        }
        request.body = .bytes(ByteBuffer(bytes: payload))
        return try await execute(request, endpoint: endpoint, headers: extra)
    }

    /// GETs `endpoint` + `path` (health checks).
    public func get(_ endpoint: EndpointPool.Endpoint, path: String, headers extra: [(String, String)] = []) async throws(HTTPTransportError) -> HTTPResponse {
        var request = HTTPClientRequest(url: Self.join(endpoint.url, path))
        request.method = .GET
        return try await execute(request, endpoint: endpoint, headers: extra)
    }

    private func execute(
        _ request: HTTPClientRequest, endpoint: EndpointPool.Endpoint, headers extra: [(String, String)]
    ) async throws(HTTPTransportError) -> HTTPResponse {
        var request = request
        request.headers.add(name: "User-Agent", value: "logbridge")
        if let authorization { request.headers.add(name: authorization.name, value: authorization.value) }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        do {
            let response = try await client.execute(request, timeout: TimeAmount(settings.requestTimeout))
            let collected = try await response.body.collect(upTo: 64 << 20)
            return HTTPResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Array(buffer: collected))
        } catch {
            throw HTTPTransportError(endpoint: endpoint.url, message: "\(error)")
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    static func join(_ base: String, _ path: String) -> String {
        if base.hasSuffix("/") && path.hasPrefix("/") { return base + path.dropFirst() }
        if !base.hasSuffix("/") && !path.hasPrefix("/") { return base + "/" + path }
        return base + path
    }
}
