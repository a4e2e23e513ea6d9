import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// Each network fault an operator meets at a sink endpoint, produced for real (a TLS handshake
/// against the fakes, a closed port, a name under `.invalid`), and the one line logged for it:
/// the endpoint's origin, what is wrong and the setting to check, once per episode, with no build
/// path or raw TLS library error.
@Suite struct SinkNetworkFaultTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    enum Case: String, CaseIterable, Sendable {
        case untrusted, hostnameMismatch, expired, clientCertificateRequired, refused, hostNotFound, tlsToPlainPort, plainToTLSPort
    }

    /// A server showing the fault, the endpoint URL and TLS settings that meet it, and what stops it.
    func scene(_ scene: Case) async throws -> (url: String, tls: HTTPSinkSettings.TLS, stop: @Sendable () async -> Void) {
        let trusting = HTTPSinkSettings.TLS(caFile: certificates.caFile)
        func https(_ certificate: String, clientCA: String? = nil) async throws -> FakeHTTPServer {
            try await FakeHTTPServer(tls: .init(certificateFile: certificate, keyFile: certificates.serverKeyFile, clientCAFile: clientCA)) { _ in
                .respond(status: 200, headers: [], body: Array(#"{"errors":false,"items":[]}"#.utf8))
            }
        }
        switch scene {
        case .untrusted:
            let server = try await https(certificates.untrustedServerCertificateFile)
            return (server.url, trusting, { await server.shutdown() })
        case .hostnameMismatch:
            let server = try await https(certificates.wrongHostServerCertificateFile)
            return (server.url, trusting, { await server.shutdown() })
        case .expired:
            let server = try await https(certificates.expiredServerCertificateFile)
            return (server.url, trusting, { await server.shutdown() })
        case .clientCertificateRequired:
            let server = try await https(certificates.serverCertificateFile, clientCA: certificates.caFile)
            return (server.url, trusting, { await server.shutdown() })
        case .refused:
            let refusing = try RefusingPort()
            return (refusing.url, .init(), { refusing.release() })
        case .hostNotFound:
            // RFC 2606: `.invalid` never resolves.
            return ("https://logbridge-test.invalid:9200", trusting, {})
        case .tlsToPlainPort:
            let server = try await FakeHTTPServer { _ in .respond(status: 200, headers: [], body: []) }
            return ("https://127.0.0.1:\(server.port)", trusting, { await server.shutdown() })
        case .plainToTLSPort:
            let server = try await https(certificates.serverCertificateFile)
            return ("http://127.0.0.1:\(server.port)", .init(), { await server.shutdown() })
        }
    }

    /// The exact operator message for each case at `origin`.
    static func expectedMessage(_ scene: Case, origin: String) -> String {
        switch scene {
        case .untrusted:
            "\(origin): TLS certificate not trusted (no trusted CA issued it); set tls.ca_file to the PEM file of the CA that issued the server's certificate"
        case .hostnameMismatch:
            "\(origin): TLS certificate does not name the endpoint's host; use a host name the certificate holds in the endpoint URL, or set tls.verify_hostname: false to check the CA chain only"
        case .expired:
            // The end date is the generated certificate's: checked apart.
            "\(origin): TLS certificate expired or not valid yet (valid until "
        case .clientCertificateRequired:
            "\(origin): TLS handshake rejected by the server: it requires a client certificate it trusts; set tls.cert_file and tls.key_file to a client certificate (PEM) issued by a CA the server trusts"
        case .refused:
            "\(origin): connection refused (nothing listens on the port); check the port in the endpoint URL and that the server is running"
        case .hostNotFound:
            "\(origin): host name not found (DNS); check the host in the endpoint URL and this machine's DNS"
        case .tlsToPlainPort:
            "\(origin): TLS sent to a port that speaks plain HTTP; use http:// in the endpoint URL, or the server's TLS port"
        case .plainToTLSPort:
            "\(origin): plain HTTP sent to a port that expects TLS; use https:// in the endpoint URL"
        }
    }

    static let expectedKind: [Case: SinkNetworkFault] = [
        .untrusted: .certificateUntrusted, .hostnameMismatch: .hostnameMismatch, .expired: .certificateExpired,
        .clientCertificateRequired: .clientCertificateRequired, .refused: .connectionRefused, .hostNotFound: .hostNotFound,
        .tlsToPlainPort: .tlsToPlainPort, .plainToTLSPort: .plainToTLSPort,
    ]

    @Test(arguments: Case.allCases)
    func eachFaultIsLoggedOncePerEpisodeInOneActionableLine(_ scene: Case) async throws {
        let (url, tls, stop) = try await self.scene(scene)
        let recorder = LogRecorder()
        let sink = try await TLSSinkKind.elasticsearch.sink([url], tls: tls, logger: Logger(label: "faults") { _ in recorder })
        let held = await TLSDelivery.hold(sink)
        await sink.close()
        await stop()
        #expect(!held.returned, "held for retry, never dead-lettered")
        let fault = try #require(held.faults.first)
        #expect(fault.kind == Self.expectedKind[scene])
        let origin = EndpointPool.displayOrigin(url)
        #expect(fault.origin == origin)
        let expected = Self.expectedMessage(scene, origin: origin)
        if scene == .expired {
            #expect(fault.message.hasPrefix(expected), "\(fault.message)")
            #expect(fault.message.hasSuffix("Z); renew the server's certificate (and check this machine's clock)"), "\(fault.message)")
        } else {
            #expect(fault.message == expected)
        }
        // Three attempts at least (the endpoint was ejected), one line for them, carrying the message.
        let failing = recorder.messages.filter { $0.contains("sink endpoint failing") }
        #expect(failing.count == 1, "\(failing)")
        #expect(failing.first?.hasPrefix("sink endpoint failing: \(fault.message); records stay spooled and are retried") == true)
        #expect(!(failing.first ?? "").contains("\n"))
        #expect(TLSDelivery.leaks(recorder.messages).isEmpty, "\(TLSDelivery.leaks(recorder.messages))")
    }

    /// An episode ends when the endpoint answers: one line for the recovery, and a later fault is
    /// logged again.
    @Test func anEpisodeEndsWhenTheEndpointAnswersAgain() async throws {
        let refusing = try RefusingPort()
        let port = refusing.port
        let recorder = LogRecorder()
        var http = HTTPSinkSettings(endpoints: ["http://127.0.0.1:\(port)"], requestTimeout: .seconds(10))
        http.ejectAfterFailures = 100  // stays in rotation: the retry after the restart goes to it
        let sink = try ElasticsearchSink(
            name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs")),
            logger: Logger(label: "faults") { _ in recorder })
        let attempt = Task { try await sink.deliver(TLSDelivery.batch()) }
        #expect(await eventually { recorder.messages.contains(where: { $0.contains("sink endpoint failing") }) })
        // The destination comes back on the same port.
        refusing.release()
        let es = try await FakeElasticsearch(port: port)
        let delivery = try await attempt.value
        #expect(delivery.deadLetters.isEmpty)
        #expect(es.documentCount == 20)
        #expect(sink.endpointFaults.isEmpty)
        #expect(recorder.messages.filter { $0.contains("sink endpoint failing") }.count == 1)
        #expect(recorder.messages.contains { $0.contains("sink endpoint answering again") && $0.contains("fault=connection_refused") })
        await sink.close()
        await es.shutdown()
    }

    /// The endpoint is named by its origin only: a path prefix (which may carry a routing token)
    /// and the sink's credentials stay out of the fault and its log line.
    @Test func theFaultNamesTheOriginOnly() async throws {
        let refusing = try RefusingPort()
        let recorder = LogRecorder()
        var http = HTTPSinkSettings(
            endpoints: ["\(refusing.url)/tenant-route-7f3a"], authentication: .basic(user: "shipper", password: "pw-91c2"),
            requestTimeout: .seconds(10))
        http.ejectionTime = .seconds(30)
        let sink = try ElasticsearchSink(
            name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs")),
            logger: Logger(label: "faults") { _ in recorder })
        let held = await TLSDelivery.hold(sink)
        await sink.close()
        #expect(held.faults.map(\.origin) == [refusing.url])
        #expect(held.faults.map(\.kind) == [.connectionRefused])
        let failing = recorder.messages.filter { $0.contains("sink endpoint failing") }
        #expect(failing.count == 1)
        for line in failing + held.faults.map(\.message) {
            #expect(!line.contains("tenant-route-7f3a"))
            #expect(!line.contains("pw-91c2"))
        }
    }

    /// A server that answers too late: the timeout names the deadline and what to check.
    @Test func aLateAnswerIsATimeoutNamingRequestTimeout() async throws {
        let server = try await FakeHTTPServer { _ in .delayed(.seconds(3), status: 200, headers: [], body: []) }
        let recorder = LogRecorder()
        var http = HTTPSinkSettings(endpoints: [server.url], requestTimeout: .milliseconds(150))
        http.ejectionTime = .seconds(30)
        let sink = try ElasticsearchSink(
            name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs")),
            logger: Logger(label: "faults") { _ in recorder })
        let held = await TLSDelivery.hold(sink)
        await sink.close()
        await server.shutdown()
        #expect(!held.returned)
        // Whichever deadline fired (the transport's or the client's), the same message.
        #expect(held.faults.map(\.message) == [
            "\(server.url): no answer in time (request_timeout 0.15 seconds); check the network path (firewall, proxy), the server's load and request_timeout"
        ])
        #expect(recorder.messages.filter { $0.contains("sink endpoint failing") }.count == 1, "\(recorder.messages)")
    }

    /// Raw library errors that reach the `other` case keep no file path.
    @Test func unclassifiedDetailsCarryNoPaths() {
        struct Raw: Error, CustomStringConvertible {
            var description: String { "handshake failed at /home/ci/work/.build/checkouts/swift-nio-ssl/Sources/CNIOBoringSSL/ssl/handshake.cc:320" }
        }
        let fault = EndpointFault(kind: .other, origin: "https://es1:9200", detail: EndpointFault.safeDetail(Raw()))
        #expect(!fault.message.contains("/Sources/"))
        #expect(!fault.message.contains("BoringSSL"))
        #expect(fault.message == "https://es1:9200: request failed (handshake failed at (path)); check the endpoint URL and the network path")
    }
}
