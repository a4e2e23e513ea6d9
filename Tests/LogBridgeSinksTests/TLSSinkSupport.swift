import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeSinks
import LogBridgeTestSupport
import Logging
import Testing

/// The three HTTP sink kinds behind one face, so each TLS test runs against HEC, Elasticsearch
/// and Loki alike: an HTTPS fake of the kind and a sink of the kind pointed at it.
enum TLSSinkKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case hec, elasticsearch, loki

    var testDescription: String { rawValue }

    /// A fake of this kind and how many records it stored.
    struct Fake: Sendable {
        var url: String
        var port: Int
        var stored: @Sendable () -> Int
        var shutdown: @Sendable () async -> Void
        /// HEC's acknowledgement polls answered; nil for the other kinds.
        var ackPolls: @Sendable () -> Int? = { nil }
    }

    func fake(tls: FakeHTTPServer.TLS?) async throws -> Fake {
        switch self {
        case .hec:
            let hec = try await FakeSplunkHEC(tls: tls)
            return Fake(
                url: hec.url, port: Self.port(hec.url), stored: { hec.eventCount }, shutdown: { await hec.shutdown() },
                ackPolls: { hec.ackPolls })
        case .elasticsearch:
            let es = try await FakeElasticsearch(tls: tls)
            return Fake(url: es.url, port: Self.port(es.url), stored: { es.documentCount }, shutdown: { await es.shutdown() })
        case .loki:
            let loki = try await FakeLoki(tls: tls)
            return Fake(url: loki.url, port: Self.port(loki.url), stored: { loki.entries.count }, shutdown: { await loki.shutdown() })
        }
    }

    /// A sink of this kind, opened (HEC starts its acknowledgement poller).
    func sink(_ endpoints: [String], tls: HTTPSinkSettings.TLS, logger: Logger) async throws -> any Sink {
        // 120 s: on a loaded 2-core machine a first TLS request answered after 10 s was retried
        // by the sink and stored twice (at-least-once), which the exact counts here do not allow;
        // the suite has seen the Swift pool stall for 26 s. Faults fail at once, not by timeout.
        var http = HTTPSinkSettings(endpoints: endpoints, tls: tls, requestTimeout: .seconds(120))
        http.ejectionTime = .seconds(30)
        let sink: any Sink
        switch self {
        case .hec:
            var configuration = SplunkHECSinkConfiguration(
                http: http, host: try FieldTemplate("node"), source: try FieldTemplate("kafka:logs"),
                sourcetype: try FieldTemplate("_json"), index: try FieldTemplate("main"), fields: [],
                acknowledgements: true, ackPollInterval: .milliseconds(50), ackTimeout: .seconds(300))
            configuration.setToken("hec-token")
            sink = try SplunkHECSink(name: "hec", configuration: configuration, notebook: nil, logger: logger)
        case .elasticsearch:
            sink = try ElasticsearchSink(
                name: "es", configuration: ElasticsearchSinkConfiguration(http: http, index: try FieldTemplate("logs")), logger: logger)
        case .loki:
            sink = try LokiSink(
                name: "loki",
                configuration: LokiSinkConfiguration(
                    http: http, labels: [.init(name: "job", template: try FieldTemplate("logbridge"))], tenantID: "team-a"),
                logger: logger)
        }
        try await sink.open(restoring: SinkCheckpoint(nextSequence: 0))
        return sink
    }

    private static func port(_ url: String) -> Int { Int(url.split(separator: ":").last!)! }
}

/// Delivering and holding, as the sink runner sees it.
enum TLSDelivery {
    /// Twenty records with distinct lines (Loki de-duplicates identical entries).
    static func batch() -> RecordBatch {
        var batch = TestBatches.batch((0..<20).map { #"{"log":"tls line \#($0)","kubernetes":{"namespace_name":"shop"}}"# })
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for i in batch.records.indices { batch.records[i].timestampMs = now }
        return batch
    }

    /// Delivers the batch and waits for the destination's confirmation (HEC acknowledgements).
    /// - Returns: whether every record was stored without a dead letter.
    static func deliver(_ sink: any Sink) async throws -> Bool {
        let delivery = try await sink.deliver(batch())
        guard delivery.deadLetters.isEmpty else { return false }
        return await delivery.confirmation?.wait() ?? true
    }

    /// Starts delivering and waits until every endpoint of the sink is ejected with a network
    /// fault (well under a second here; the deadline is for a loaded CI machine): then stops the
    /// attempt, as shutdown would.
    /// - Returns: the faults, and whether `deliver` returned at all (it must not: the records are
    ///   held for retry, never dead-lettered or dropped).
    static func hold(_ sink: any Sink, timeout: Duration = .seconds(30)) async -> (faults: [EndpointFault], returned: Bool) {
        let attempt = Task { try await sink.deliver(batch()) }
        await eventually(timeout: timeout) {
            let health = sink.endpointHealth
            return !health.isEmpty && !health.contains(where: \.healthy) && sink.endpointFaults.count == health.count
        }
        let faults = sink.endpointFaults.map(\.fault)
        attempt.cancel()
        let returned = (try? await attempt.value) != nil
        return (faults, returned)
    }

    /// Log lines that would leak a build path or a raw TLS library error.
    static func leaks(_ lines: [String]) -> [String] {
        lines.filter { $0.contains("/Sources/") || $0.contains("BoringSSL") || $0.contains(".build/") }
    }
}
