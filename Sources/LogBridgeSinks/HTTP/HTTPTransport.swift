import AsyncHTTPClient
import Foundation
import LogBridgeCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A response, read whole up to `HTTPSinkSettings.maxResponseBytes` (sink responses are small:
/// statuses and error reasons).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// The body was longer than the limit; `body` holds its start only.
    public var truncated = false

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    public var bodyText: String { String(decoding: body.prefix(4096), as: UTF8.self) }
}

/// The request never got a response: connection refused or reset, TLS failure, timeout.
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    /// The endpoint's URL as configured.
    public var endpoint: String
    /// What went wrong, classified, with the endpoint's origin and the setting to check.
    public var fault: EndpointFault
    /// The operator message: one line, no credentials, no paths.
    public var message: String { fault.message }
    public var description: String { message }

    public init(endpoint: String, fault: EndpointFault) {
        self.endpoint = endpoint
        self.fault = fault
    }
}

/// Sends sink requests through async-http-client (connection pooling, keep-alive, TLS), adding
/// authentication and compression the same way for every sink.
public final class HTTPTransport: Sendable {
    private let client: HTTPClient
    private let settings: HTTPSinkSettings
    private let authorization: (name: String, value: String)?
    private let classifier: NetworkFaultClassifier

    /// - Throws: when a TLS file cannot be read.
    public init(settings: HTTPSinkSettings, logger: Logger) throws {
        self.settings = settings
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
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
        } else if !settings.tls.verifyHostname {
            tls.certificateVerification = .noHostnameVerification
            logger.warning(
                "TLS host name verification is off (tls.verify_hostname: false): any certificate the trusted CAs issued is accepted for every endpoint")
        }
        classifier = NetworkFaultClassifier(tls: tls, requestTimeout: settings.requestTimeout)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // TimeAmount(Duration) truncates and clamps: converting through Int64 seconds traps past
        // ~292 years and rounded 500ms down to a read timeout of zero.
        configuration.timeout = .init(connect: .seconds(10), read: TimeAmount(settings.requestTimeout))
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        // A refused or failed connection is reported at once, so the endpoint pool (not the
        // client's own retry loop) decides where the batch goes next.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .enabled(limit: .ratio(50))
        // A redirect is answered, not followed: following it would send log bodies, credentials
        // and tenant headers to an origin the operator did not configure (`commonVerdict`).
        configuration.redirectConfiguration = .disallow
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        switch settings.authentication {
        case .none: authorization = nil
        case .basic(let user, let password):
            authorization = ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        case .bearer(let token): authorization = ("Authorization", "Bearer \(token)")
        case .header(let name, let value): authorization = (name, value)
        }
        let plain = settings.endpoints.filter { $0.lowercased().hasPrefix("http://") }
        if authorization != nil, !plain.isEmpty {
            logger.warning(
                "credentials are sent to endpoints without TLS: anyone on the path can read them; use https://",
                metadata: ["endpoints": "\(plain.map(EndpointPool.displayOrigin).joined(separator: " "))"])
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
        let timeout = settings.requestTimeout
        let limit = settings.maxResponseBytes
        let client = self.client
        let prepared = request
        // One deadline for the request and the whole body: a sink that answers a byte at a time
        // cannot hold the request slot past `request_timeout`. The request runs as a task of its
        // own that a timer on the client's event loop cancels. Not a task group racing a
        // `Task.sleep` child: every request then paid two child tasks and a Dispatch timer armed
        // and cancelled on Dispatch's manager thread, ~5% of the Swift pool's CPU on the Elasticsearch row
        // (docs/cpu-profile.md); the event loop keeps its timers in its own heap.
        let work = Task { () async throws -> HTTPResponse in
            let response = try await client.execute(prepared, timeout: TimeAmount(timeout))
            var body: [UInt8] = []
            var truncated = false
            for try await chunk in response.body {
                let room = limit - body.count
                if chunk.readableBytes > room {
                    body += chunk.readableBytesView.prefix(room)
                    truncated = true
                    break  // the rest is not read; the client closes the connection
                }
                body += chunk.readableBytesView
            }
            return HTTPResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body,
                truncated: truncated)
        }
        let expired = OnceFlag()
        let timer = client.eventLoopGroup.any().scheduleTask(in: TimeAmount(timeout)) {
            expired.set()
            work.cancel()
        }
        defer { timer.cancel() }
        do {
            // A stop cancels the caller: pass it on to the request's own task.
            return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
        } catch {
            if !Task.isCancelled, expired.isSet {
                throw HTTPTransportError(
                    endpoint: endpoint.url,
                    fault: EndpointFault(
                        kind: .timeout, origin: EndpointPool.displayOrigin(endpoint.url), detail: "request_timeout \(timeout)"))
            }
            throw HTTPTransportError(endpoint: endpoint.url, fault: await classifier.classify(error, url: endpoint.url))
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
