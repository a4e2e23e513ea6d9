import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// HTTPS end to end for every HTTP sink kind, through real NIOSSL handshakes against the fakes
/// with certificates the tests generate: a trusted private CA, client certificates, and the
/// certificates that must hold the records (untrusted, expired, wrong host) and report the
/// endpoint down without ever dead-lettering a record.
@Suite struct SinkTLSTests {
    let certificates: TestCertificates

    init() throws {
        certificates = try TestCertificates.shared()
    }

    func serving(_ certificate: String, requireClientCertificate: Bool = false) -> FakeHTTPServer.TLS {
        FakeHTTPServer.TLS(
            certificateFile: certificate, keyFile: certificates.serverKeyFile,
            clientCAFile: requireClientCertificate ? certificates.caFile : nil)
    }

    @Test(arguments: TLSSinkKind.allCases)
    func trustedPrivateCADelivers(kind: TLSSinkKind) async throws {
        let fake = try await kind.fake(tls: serving(certificates.serverCertificateFile))
        #expect(fake.url.hasPrefix("https://"))
        let sink = try await kind.sink([fake.url], tls: .init(caFile: certificates.caFile), logger: Logger(label: "tls"))
        // For HEC this waits for the indexer acknowledgements, polled over the same TLS connection pool.
        #expect(try await TLSDelivery.deliver(sink))
        #expect(fake.stored() == 20)
        if kind == .hec { #expect((fake.ackPolls() ?? 0) >= 1, "the batch was confirmed by an acknowledgement poll over TLS") }
        #expect(sink.endpointFaults.isEmpty)
        await sink.close()
        await fake.shutdown()
    }

    @Test(arguments: TLSSinkKind.allCases)
    func clientCertificateRequiredDeliversWithOneAndHoldsWithout(kind: TLSSinkKind) async throws {
        let fake = try await kind.fake(tls: serving(certificates.serverCertificateFile, requireClientCertificate: true))
        let recorder = LogRecorder()
        let without = try await kind.sink([fake.url], tls: .init(caFile: certificates.caFile), logger: Logger(label: "tls") { _ in recorder })
        let held = await TLSDelivery.hold(without)
        #expect(!held.returned, "held for retry: neither delivered nor dead-lettered")
        #expect(held.faults.map(\.kind) == [.clientCertificateRequired])
        #expect(fake.stored() == 0)
        #expect(TLSDelivery.leaks(recorder.messages).isEmpty)
        await without.close()

        let with = try await kind.sink(
            [fake.url],
            tls: .init(caFile: certificates.caFile, certFile: certificates.clientCertificateFile, keyFile: certificates.clientKeyFile),
            logger: Logger(label: "tls"))
        #expect(try await TLSDelivery.deliver(with))
        #expect(fake.stored() == 20)
        await with.close()
        await fake.shutdown()
    }

    /// A server certificate the sink must refuse, and the fault it must report.
    enum Refused: String, CaseIterable, Sendable { case untrusted, expired, wrongHost }

    @Test(arguments: TLSSinkKind.allCases, Refused.allCases)
    func refusedServerCertificateHoldsTheRecordsAndReportsTheEndpointDown(kind: TLSSinkKind, refused: Refused) async throws {
        let (certificate, expected): (String, SinkNetworkFault) =
            switch refused {
            case .untrusted: (certificates.untrustedServerCertificateFile, .certificateUntrusted)
            case .expired: (certificates.expiredServerCertificateFile, .certificateExpired)
            case .wrongHost: (certificates.wrongHostServerCertificateFile, .hostnameMismatch)
            }
        let fake = try await kind.fake(tls: serving(certificate))
        let recorder = LogRecorder()
        let sink = try await kind.sink([fake.url], tls: .init(caFile: certificates.caFile), logger: Logger(label: "tls") { _ in recorder })
        let held = await TLSDelivery.hold(sink)
        #expect(!held.returned, "held for retry: neither delivered nor dead-lettered")
        #expect(held.faults.map(\.kind) == [expected])
        #expect(sink.endpointHealth.map(\.healthy) == [false], "ejected: the endpoint is reported down")
        #expect(fake.stored() == 0)
        // Several attempts failed (the endpoint is ejected after three), one line says so.
        let failing = recorder.messages.filter { $0.contains("sink endpoint failing") }
        #expect(failing.count == 1, "\(failing)")
        #expect(failing.first?.contains("fault=\(expected.rawValue)") == true)
        #expect(TLSDelivery.leaks(recorder.messages).isEmpty, "\(TLSDelivery.leaks(recorder.messages))")
        await sink.close()
        await fake.shutdown()
    }

    @Test(arguments: TLSSinkKind.allCases)
    func verifyFalseDeliversToAnUntrustedCertificateAndWarns(kind: TLSSinkKind) async throws {
        let fake = try await kind.fake(tls: serving(certificates.untrustedServerCertificateFile))
        let recorder = LogRecorder()
        let sink = try await kind.sink([fake.url], tls: .init(verify: false), logger: Logger(label: "tls") { _ in recorder })
        #expect(recorder.messages.contains { $0.contains("TLS certificate verification is off (tls.verify: false)") })
        #expect(try await TLSDelivery.deliver(sink))
        #expect(fake.stored() == 20)
        await sink.close()
        await fake.shutdown()
    }

    /// `verify_hostname: false` keeps the chain check: a certificate for another host from the
    /// trusted CA is accepted, one from an untrusted CA still is not.
    @Test func verifyHostnameFalseChecksTheChainOnly() async throws {
        let kind = TLSSinkKind.elasticsearch
        let wrongHost = try await kind.fake(tls: serving(certificates.wrongHostServerCertificateFile))
        let recorder = LogRecorder()
        let sink = try await kind.sink(
            [wrongHost.url], tls: .init(caFile: certificates.caFile, verifyHostname: false), logger: Logger(label: "tls") { _ in recorder })
        #expect(recorder.messages.contains { $0.contains("tls.verify_hostname: false") })
        #expect(try await TLSDelivery.deliver(sink))
        #expect(wrongHost.stored() == 20)
        await sink.close()
        await wrongHost.shutdown()

        let untrusted = try await kind.fake(tls: serving(certificates.untrustedServerCertificateFile))
        let strict = try await kind.sink([untrusted.url], tls: .init(caFile: certificates.caFile, verifyHostname: false), logger: Logger(label: "tls"))
        let held = await TLSDelivery.hold(strict)
        #expect(!held.returned)
        #expect(held.faults.map(\.kind) == [.certificateUntrusted])
        await strict.close()
        await untrusted.shutdown()
    }
}
