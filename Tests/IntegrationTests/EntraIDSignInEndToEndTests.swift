import Foundation
import LogBridge
import LogBridgeKafka
import LogBridgeTestKit
import Logging
import Testing

/// Entra ID sign-in on a whole gateway: a token endpoint refusing the client secret shows in
/// `/readyz` with Entra ID's reason and in `/metrics`, never with the secret.
@Suite(.serialized)
struct EntraIDSignInEndToEndTests {
    @Test func aRefusingTokenEndpointShowsInReadyzAndMetricsWithoutTheSecret() async throws {
        var options = FakeEntraTokenEndpoint.Options()
        options.clientSecret = "the-right-secret~0123456789"
        let fake = try await FakeEntraTokenEndpoint(options: options)
        defer { Task { await fake.shutdown() } }
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("logs", partitions: 1)
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "entra-readyz")
        defer { harness.directory.remove() }
        let secret = "a-wrong-secret~9876543210"
        var configuration = harness.configuration
        // The mock cluster speaks neither TLS nor SASL: the library API lets properties point the
        // OAUTHBEARER consumer at it over plain text (a configuration file cannot).
        configuration.source = KafkaSourceConfiguration(
            entraID: EntraIDSignIn(
                namespaceHost: "contoso.servicebus.windows.net", tenantID: options.tenantID, clientID: options.clientID,
                credential: .clientSecret(secret), authorityHost: fake.authorityHost),
            topics: ["logs"], groupID: "entra-readyz",
            properties: ["bootstrap.servers": cluster.bootstrapServers, "security.protocol": "SASL_PLAINTEXT"])
        let gateway = try buildGateway(configuration: configuration, logger: Logger(label: "entra-e2e"), signals: false)
        let run = Task { try await gateway.serviceGroup.run() }
        let port = try #require(await gateway.admin?.boundPort())
        let base = "http://127.0.0.1:\(port)"

        var ready = try await AdminProbe.get(base + "/readyz")
        try await eventually(timeout: .seconds(20), interval: .milliseconds(100)) {
            ready = try await AdminProbe.get(base + "/readyz")
            return ready.body.contains("AADSTS7000215")
        }
        #expect(ready.status == 503)
        #expect(ready.body.contains("source: Entra ID token for contoso.servicebus.windows.net failed"))
        #expect(ready.body.contains("HTTP 401: invalid_client: AADSTS7000215"))
        #expect(!ready.body.contains(secret))
        let metrics = try await AdminProbe.get(base + "/metrics")
        let samples = try AdminProbe.parseWithReferenceParser(metrics.body)
        #expect((samples.value("logbridge_source_oauth_token_refresh_total", ["result": "failure"]) ?? 0) >= 1)
        #expect(samples.value("logbridge_source_oauth_token_refresh_total", ["result": "success"]) == 0)
        #expect(!metrics.body.contains(secret))

        await gateway.serviceGroup.triggerGracefulShutdown()
        try await run.value
    }
}
