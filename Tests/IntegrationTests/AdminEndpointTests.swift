import Foundation
import LogBridge
import LogBridgeKafka
import LogBridgeTestKit
import Testing

/// The admin token on a whole gateway: what an anonymous client, the kubelet's probes, the
/// token holder and `logbridge status` each get, and a reload that rotates the token.
@Suite(.serialized)
struct AdminEndpointTests {
    @Test func aTokenGuardsMetricsKeepsProbesOpenReachesStatusAndRotatesOnReload() async throws {
        let records = 500
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 2)
        let token = "integration-admin-token-0123456789"
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, group: "admin-token", admin: AdminConfiguration(listen: "127.0.0.1:0", token: token))
        defer { harness.directory.remove() }
        let running = try harness.start()
        let port = try #require(await running.gateway.admin?.boundPort())
        let base = "http://127.0.0.1:\(port)"

        // Anonymous: probes answer with their status alone, everything else is 401.
        #expect(try await AdminProbe.get(base + "/healthz").status == 200)
        let early = try await AdminProbe.get(base + "/readyz")
        if early.status == 503 {
            #expect(early.body == "not ready\n", "the group name stays with the token holder")
            #expect(try await AdminProbe.get(base + "/readyz", bearer: token).body.contains("consumer group 'admin-token'"))
        }
        #expect(try await AdminProbe.get(base + "/metrics").status == 401)
        #expect(try await AdminProbe.get(base + "/metrics", bearer: "integration-admin-token-012345678").status == 401)

        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(60)) { statistics.sink("archive").delivered.value >= records })
        let scrape = try await AdminProbe.get(base + "/metrics", bearer: token)
        #expect(scrape.status == 200)
        let samples = try AdminProbe.parseWithReferenceParser(scrape.body)
        #expect(samples.value("logbridge_sink_records_delivered_total", ["sink": "archive"]) == Double(records))
        #expect(samples.value("logbridge_admin_unauthorized_requests_total") == 2)
        #expect((samples.value("logbridge_admin_connections") ?? 0) >= 1)

        // `logbridge status` sends the token from a file, or from the configuration's admin section
        // (which is all that file needs to hold).
        let binary = try LogBridgeBinary.locate()
        let tokenFile = harness.directory.file("admin-token")
        try "\(token)\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let withFile = try CommandLine.capture(binary, ["status", "--admin", base, "--token-file", tokenFile, "--json", "--count", "1"])
        #expect(withFile.status == 0)
        #expect(withFile.output.contains("\"archive\""))
        let withoutToken = try CommandLine.capture(binary, ["status", "--admin", base, "--json", "--count", "1"])
        #expect(withoutToken.status != 0)
        let adminOnly = harness.directory.file("admin-only.yaml")
        try "admin:\n  listen: \"127.0.0.1:\(port)\"\n  token: \"${file:\(tokenFile)}\"\n".write(
            toFile: adminOnly, atomically: true, encoding: .utf8)
        let withConfig = try CommandLine.capture(binary, ["status", "--config", adminOnly, "--json", "--count", "1"])
        #expect(withConfig.status == 0)

        // A reload with a new token: the old one stops working at once, no restart.
        var rotated = harness.configuration
        rotated.admin.token = "rotated-admin-token-9876543210"
        try await running.gateway.reload(rotated)
        #expect(try await AdminProbe.get(base + "/metrics", bearer: token).status == 401)
        #expect(try await AdminProbe.get(base + "/metrics", bearer: "rotated-admin-token-9876543210").status == 200)
        try await running.stop()
    }
}
