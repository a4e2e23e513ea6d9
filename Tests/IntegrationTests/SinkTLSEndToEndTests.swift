import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// A running gateway whose Elasticsearch endpoint presents a certificate no trusted CA issued:
/// the records stay spooled, and the operator reads why and what to set in `/readyz`, in
/// `/metrics` and in `logbridge status`.
@Suite struct SinkTLSEndToEndTests {
    @Test func anUntrustedCertificateIsShownInReadyzMetricsAndStatus() async throws {
        let certificates = try TestCertificates.shared()
        let es = try await FakeElasticsearch(
            tls: .init(certificateFile: certificates.untrustedServerCertificateFile, keyFile: certificates.serverKeyFile))
        let cluster = try MockKafkaCluster.seeded(records: 200, partitions: 2)
        var http = HTTPSinkSettings(
            endpoints: [es.url], tls: .init(caFile: certificates.caFile), ejectAfterFailures: 2,
            // Long enough that the endpoint is not back on probation while /metrics is read.
            ejectionTime: .seconds(30))
        http.maxBackoff = .milliseconds(300)
        let sink = SinkConfiguration(
            name: "es", kind: ElasticsearchSinkConfiguration(http: http),
            runner: SinkRunnerConfiguration(
                batchSize: 100, maxBatchBytes: 1 << 20, interval: .milliseconds(50), maxBackoff: .milliseconds(300),
                // The endpoint never becomes reachable: the stop need not wait for the drain.
                shutdownTimeout: .milliseconds(200)))
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "tls-fault", sinks: [sink])
        defer { harness.directory.remove() }
        let running = try harness.start()
        let port = try #require(await running.gateway.admin?.boundPort())
        let base = "http://127.0.0.1:\(port)"
        let origin = EndpointPool.displayOrigin(es.url)
        let message = "\(origin): TLS certificate not trusted (no trusted CA issued it); set tls.ca_file to the PEM file of the CA that issued the server's certificate"

        var readyz: AdminProbe.Response?
        for _ in 0..<150 {
            let answer = try await AdminProbe.get(base + "/readyz")
            if answer.body.contains("sink es:") {
                readyz = answer
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(readyz?.status == 503)
        #expect(readyz?.body.contains("sink es: no healthy endpoint (\(message))") == true, "\(readyz?.body ?? "-")")

        let samples = try PrometheusText.parse(try await AdminProbe.get(base + "/metrics").body)
        #expect(samples.value("logbridge_sink_endpoint_fault", ["sink": "es", "endpoint": es.url, "fault": "certificate_untrusted"]) == 1)
        #expect(samples.value("logbridge_sink_endpoint_up", ["sink": "es", "endpoint": es.url]) == 0)
        #expect(samples.value("logbridge_sink_records_dead_lettered_total", ["sink": "es"]) == 0, "held, never dead-lettered")
        #expect(es.documentCount == 0)

        let snapshot = StatusSnapshot(samples: samples, at: .now)
        let screen = StatusView.render(previous: nil, current: snapshot, adminURL: base, width: 0)
        #expect(screen.contains("! es \(origin): TLS certificate not trusted (no trusted CA issued it)\n    set tls.ca_file"), "\(screen)")
        #expect(StatusView.json(current: snapshot, previous: nil).contains(#""fault":"certificate_untrusted""#))

        try await running.stop()
        await es.shutdown()
    }

    /// The server's certificate is replaced mid-run by one from a CA the sink does not trust: the
    /// records are held; a reload that adds the CA to `tls.ca_file` applies at once (the batches
    /// waiting to retry are handed to the new configuration) and every record arrives once.
    @Test func aReloadAddingTheNewCADeliversTheHeldRecords() async throws {
        let certificates = try TestCertificates.shared()
        let records = 3_000
        let es = try await FakeElasticsearch(
            latency: .milliseconds(40),
            tls: .init(certificateFile: certificates.serverCertificateFile, keyFile: certificates.serverKeyFile))
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 2)
        let directory = TemporaryDirectory(prefix: "logbridge-tls-reload")
        let bundle = directory.file("both-cas.pem")
        try (String(contentsOfFile: certificates.caFile, encoding: .utf8) + String(contentsOfFile: certificates.otherCAFile, encoding: .utf8))
            .write(toFile: bundle, atomically: true, encoding: .utf8)
        func sink(caFile: String) -> SinkConfiguration {
            var http = HTTPSinkSettings(endpoints: [es.url], tls: .init(caFile: caFile), ejectAfterFailures: 2, ejectionTime: .milliseconds(500))
            http.maxBackoff = .milliseconds(300)
            return SinkConfiguration(
                name: "es", kind: ElasticsearchSinkConfiguration(http: http),
                // A reload that waited for the old runner's held batches would take this long; the
                // bound below sits far from it, so a loaded machine cannot blur the two.
                runner: SinkRunnerConfiguration(
                    batchSize: 100, maxBatchBytes: 1 << 20, interval: .milliseconds(50), maxBackoff: .milliseconds(300),
                    shutdownTimeout: .seconds(120)))
        }
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, group: "tls-reload", directory: directory, sinks: [sink(caFile: certificates.caFile)])
        defer { harness.directory.remove() }
        let running = try harness.start()
        #expect(await running.wait { es.documentCount >= 500 })

        try es.replaceCertificate(.init(certificateFile: certificates.untrustedServerCertificateFile, keyFile: certificates.serverKeyFile))
        let statistics = running.statistics
        let port = try #require(await running.gateway.admin?.boundPort())
        var untrusted = false
        for _ in 0..<200 where !untrusted {
            let samples = try PrometheusText.parse(try await AdminProbe.get("http://127.0.0.1:\(port)/metrics").body)
            untrusted = samples.value("logbridge_sink_endpoint_fault", ["sink": "es", "endpoint": es.url, "fault": "certificate_untrusted"]) == 1
            if !untrusted { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(untrusted)
        let held = es.documentCount
        try await Task.sleep(for: .seconds(1))
        #expect(es.documentCount == held, "nothing is delivered through an untrusted certificate")
        #expect(held < records)

        var trusted = harness.configuration
        trusted.sinks = [sink(caFile: bundle)]
        let reloading = ContinuousClock.now
        try await running.gateway.reload(trusted)
        #expect(ContinuousClock.now - reloading < .seconds(60), "the reload does not wait for batches only it can deliver (120 s)")
        #expect(await running.wait(timeout: .seconds(60)) { es.documentCount >= records })
        try await running.stop()
        #expect(es.documentCount == records)
        #expect(statistics.sink("es").deadLettered.value == 0, "held, never dead-lettered")
        await es.shutdown()
    }
}
