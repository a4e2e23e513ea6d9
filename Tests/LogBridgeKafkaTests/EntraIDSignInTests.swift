import AsyncHTTPClient
import Foundation
import LogBridgeCore
import LogBridgeFakes
import LogBridgeKafka
import LogBridgeMetrics
import LogBridgeMockCluster
import LogBridgeSpool
import LogBridgeTestSupport
import Logging
import Synchronization
import Testing

/// The token requests logbridge makes to Entra ID, against a fake endpoint that checks what
/// Entra ID checks.
@Suite struct EntraIDTokenRequestTests {
    static func signIn(_ fake: FakeEntraTokenEndpoint, credential: EntraIDSignIn.Credential, options: FakeEntraTokenEndpoint.Options = .init()) -> EntraIDSignIn {
        EntraIDSignIn(
            namespaceHost: "contoso.servicebus.windows.net", tenantID: options.tenantID, clientID: options.clientID,
            credential: credential, authorityHost: fake.authorityHost)
    }

    @Test func clientCredentialsPostTheFormEntraIDExpects() async throws {
        let fake = try await FakeEntraTokenEndpoint()
        defer { Task { await fake.shutdown() } }
        let options = FakeEntraTokenEndpoint.Options()
        let client = EntraTokenClient(signIn: Self.signIn(fake, credential: .clientSecret(options.clientSecret!)))
        let token = try await client.fetch(using: HTTPClient.shared)

        #expect(token.value == fake.issued.last)
        #expect(token.lifetime == .seconds(3599))
        let request = try #require(fake.received.last)
        #expect(request.method == "POST")
        #expect(request.path == "/\(options.tenantID)/oauth2/v2.0/token")
        #expect(request.contentType == "application/x-www-form-urlencoded")
        #expect(request.form == [
            "grant_type": "client_credentials", "client_id": options.clientID,
            "scope": "https://contoso.servicebus.windows.net/.default", "client_secret": options.clientSecret!,
        ])
    }

    @Test func workloadIdentityPostsTheFederatedTokenReadAtEachRequest() async throws {
        var options = FakeEntraTokenEndpoint.Options()
        options.clientSecret = nil
        options.federatedToken = "federated-token-1"
        let fake = try await FakeEntraTokenEndpoint(options: options)
        defer { Task { await fake.shutdown() } }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("azure-identity-token")
        try "federated-token-1\n".write(toFile: file, atomically: true, encoding: .utf8)
        let client = EntraTokenClient(signIn: Self.signIn(fake, credential: .workloadIdentity(federatedTokenFile: file), options: options))

        _ = try await client.fetch(using: HTTPClient.shared)
        // The kubelet rotates the projected token: the next request must carry the new one.
        try "federated-token-2".write(toFile: file, atomically: true, encoding: .utf8)
        fake.expectFederatedToken("federated-token-2")
        let second = try await client.fetch(using: HTTPClient.shared)

        #expect(second.value == fake.issued.last)
        #expect(fake.issued.count == 2)
        let forms = fake.received.map(\.form)
        #expect(forms.map { $0["client_assertion"] } == ["federated-token-1", "federated-token-2"])
        #expect(forms.allSatisfy { $0["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" })
        #expect(forms.allSatisfy { $0["grant_type"] == "client_credentials" && $0["client_secret"] == nil })
        #expect(forms.allSatisfy { $0["client_id"] == options.clientID && $0["scope"] == "https://contoso.servicebus.windows.net/.default" })

        // A missing token file, or one that is not a regular file, fails without blocking.
        for path in [directory.file("missing"), directory.path] {
            let broken = EntraTokenClient(signIn: Self.signIn(fake, credential: .workloadIdentity(federatedTokenFile: path), options: options))
            await #expect(throws: EntraTokenError.self) { _ = try await broken.fetch(using: HTTPClient.shared) }
        }
        #expect(fake.received.count == 2, "nothing is posted without a federated token")

        // A stale token is refused as Entra ID refuses it.
        fake.expectFederatedToken("federated-token-3")
        await #expect(throws: EntraTokenError.self) { _ = try await client.fetch(using: HTTPClient.shared) }
    }

    @Test func aWrongSecretFailsWithEntraIDsCodeAndNeverTheSecret() async throws {
        let fake = try await FakeEntraTokenEndpoint()
        defer { Task { await fake.shutdown() } }
        let secret = "wrong-secret-VALUE~42"
        let client = EntraTokenClient(signIn: Self.signIn(fake, credential: .clientSecret(secret)))
        do {
            _ = try await client.fetch(using: HTTPClient.shared)
            Issue.record("a wrong secret was accepted")
        } catch {
            #expect(error.status == 401)
            #expect(error.code == "AADSTS7000215")
            #expect(error.description.contains("HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided."))
            #expect(!error.description.contains(secret))
            #expect(!error.description.contains("Trace ID"))
        }
    }

    @Test func aTokenEndpointThatIsDownFailsWithTheReason() async throws {
        let fake = try await FakeEntraTokenEndpoint()
        let authority = fake.authorityHost
        await fake.shutdown()
        let signIn = EntraIDSignIn(
            namespaceHost: "contoso.servicebus.windows.net", tenantID: "t", clientID: "c", credential: .clientSecret("s3cr3t-value"),
            authorityHost: authority)
        do {
            _ = try await EntraTokenClient(signIn: signIn, requestTimeout: .seconds(2)).fetch(using: HTTPClient.shared)
            Issue.record("a closed port answered")
        } catch {
            #expect(error.description.contains("token request to \(authority)t/oauth2/v2.0/token failed"))
            #expect(!error.description.contains("s3cr3t-value"))
            #expect(error.status == nil)
        }
    }

    @Test func aPrintedConfigurationNeverShowsTheSecret() {
        let signIn = EntraIDSignIn(namespaceHost: "contoso.servicebus.windows.net", tenantID: "t", clientID: "c", credential: .clientSecret("s3cr3t-VALUE"))
        let source = KafkaSourceConfiguration(entraID: signIn, topics: ["logs"])
        #expect(!"\(signIn)".contains("s3cr3t-VALUE"))
        #expect(!"\(source)".contains("s3cr3t-VALUE"))
        #expect("\(signIn)".contains("clientSecret(********)"))
    }

    @Test func formValuesArePercentEncoded() {
        let body = EntraTokenClient.encodeForm([("scope", "https://x.servicebus.windows.net/.default"), ("client_secret", "a+b/c=d&e f~")])
        #expect(body == "scope=https%3A%2F%2Fx.servicebus.windows.net%2F.default&client_secret=a%2Bb%2Fc%3Dd%26e%20f~")
    }

    @Test func tokensAreRefreshedAt80PercentOrFiveMinutesBeforeExpiryWhicheverComesFirst() {
        let five = Duration.seconds(300)
        #expect(OAuthBearerRefresher.refreshDelay(lifetime: .seconds(3600), before: five) == .seconds(2880))
        #expect(OAuthBearerRefresher.refreshDelay(lifetime: .seconds(1200), before: five) == .seconds(900))
        // Short-lived tokens are not refreshed before half their lifetime.
        #expect(OAuthBearerRefresher.refreshDelay(lifetime: .seconds(4), before: five) == .seconds(2))
    }

    @Test func authorityHostsMustBeHTTPSExceptOnThisMachine() {
        #expect(EntraIDSignIn.authorityHostProblem("https://login.microsoftonline.us/") == nil)
        #expect(EntraIDSignIn.authorityHostProblem("http://127.0.0.1:8080/") == nil)
        #expect(EntraIDSignIn.authorityHostProblem("http://localhost/") == nil)
        #expect(EntraIDSignIn.authorityHostProblem("http://login.microsoftonline.com/") != nil)
        #expect(EntraIDSignIn.authorityHostProblem("http://127.0.0.1.evil.example/") != nil)
        #expect(EntraIDSignIn.authorityHostProblem("login.microsoftonline.com") != nil)
    }
}

/// Entra ID sign-in on a real librdkafka consumer. librdkafka 2.0.2's mock cluster does not
/// speak SASL (no SaslHandshake: "SASL Handshake not supported by broker (required by mechanism
/// OAUTHBEARER)"), so these tests cannot see a broker accept the token. What they see: librdkafka
/// calls the refresh callback, accepts the token through `rd_kafka_oauthbearer_set_token` (it
/// checks its characters, principal and expiry), and only then connects and asks for the SASL
/// handshake; without a token its brokers never connect.
@Suite(.serialized) struct EntraIDConsumerSignInTests {
    /// A consumer signing in with OAUTHBEARER over plain text to the mock cluster (the library
    /// API lets properties override what `check` refuses in a configuration file).
    static func source(
        _ fake: FakeEntraTokenEndpoint, secret: String, cluster: MockKafkaCluster, directory: TemporaryDirectory,
        statistics: ExportedStatistics, logger: Logger
    ) throws -> (KafkaSource, Spool) {
        let options = FakeEntraTokenEndpoint.Options()
        let signIn = EntraIDSignIn(
            namespaceHost: "contoso.servicebus.windows.net", tenantID: options.tenantID, clientID: options.clientID,
            credential: .clientSecret(secret), authorityHost: fake.authorityHost)
        let configuration = KafkaSourceConfiguration(
            entraID: signIn, topics: ["logs"], groupID: "entra-test",
            properties: ["bootstrap.servers": cluster.bootstrapServers, "security.protocol": "SASL_PLAINTEXT", "reconnect.backoff.ms": "200"])
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 64 << 20), sinks: ["out"], statistics: statistics.spool,
            logger: logger)
        return (try KafkaSource(configuration: configuration, target: spool, statistics: statistics.source, logger: logger), spool)
    }

    @Test func theTokenIsSetOnTheConsumerAndRefreshedBeforeExpiry() async throws {
        let fake = try await FakeEntraTokenEndpoint()
        defer { Task { await fake.shutdown() } }
        fake.setExpiresIn(4)
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("logs", partitions: 1)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let recorder = LogRecorder()
        let logger = Logger(label: "entra") { _ in recorder }
        let statistics = ExportedStatistics()
        let secret = FakeEntraTokenEndpoint.Options().clientSecret!
        let (source, _) = try Self.source(fake, secret: secret, cluster: cluster, directory: directory, statistics: statistics, logger: logger)
        try source.start()
        defer { source.stop() }
        let refresher = try #require(source.tokenRefresher)

        // Tokens of 4 s are refreshed every 2 s: three tokens within ~5 s, each accepted by librdkafka.
        #expect(await eventually(timeout: .seconds(20)) { refresher.status.tokensSet >= 3 })
        #expect(fake.issued.count >= 3)
        #expect(refresher.status.callbacks >= 1, "librdkafka's refresh callback never fired")
        #expect(refresher.status.failures == 0)
        #expect(refresher.problem == nil)
        #expect(statistics.source.oauthTokenRefreshes.value >= 3)
        #expect(statistics.source.oauthTokenRefreshFailures.value == 0)
        // Holding a token, librdkafka connected and asked the broker for the SASL handshake (the
        // mock has none); it never reported a token failure.
        #expect(await eventually(timeout: .seconds(20)) { recorder.messages.contains { $0.contains("SASL Handshake not supported by broker (required by mechanism OAUTHBEARER)") } })
        #expect(!recorder.messages.contains { $0.contains("Failed to acquire SASL OAUTHBEARER token") })
        for token in fake.issued { #expect(!recorder.messages.contains { $0.contains(token) }) }
        #expect(!recorder.messages.contains { $0.contains(secret) })
    }

    @Test func aFailingTokenEndpointShowsInTheProblemLogsAndMetricsWithoutTheSecret() async throws {
        let fake = try await FakeEntraTokenEndpoint()
        defer { Task { await fake.shutdown() } }
        let cluster = try MockKafkaCluster(brokers: 1)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let recorder = LogRecorder()
        let logger = Logger(label: "entra") { _ in recorder }
        let statistics = ExportedStatistics()
        let secret = "not-the-right-secret~VALUE"
        let (source, _) = try Self.source(fake, secret: secret, cluster: cluster, directory: directory, statistics: statistics, logger: logger)
        try source.start()
        defer { source.stop() }
        let refresher = try #require(source.tokenRefresher)

        // Backoff 1 s then 2 s: a second attempt within a few seconds.
        #expect(await eventually(timeout: .seconds(20)) { refresher.status.failures >= 2 })
        let problem = try #require(refresher.problem)
        #expect(problem.contains("AADSTS7000215"))
        #expect(problem.contains("HTTP 401"))
        #expect(problem.contains("no valid token"))
        #expect(!problem.contains(secret))
        #expect(statistics.source.oauthTokenRefreshFailures.value >= 2)
        #expect(statistics.source.oauthTokenRefreshes.value == 0)
        #expect(recorder.messages.contains { $0.contains("Entra ID token request failed") && $0.contains("AADSTS7000215") })
        // librdkafka was told: it reports the failure as an authentication error.
        #expect(await eventually(timeout: .seconds(20)) { recorder.messages.contains { $0.contains("Failed to acquire SASL OAUTHBEARER token") } })
        #expect(!recorder.messages.contains { $0.contains(secret) })
        #expect(!String(decoding: statistics.exposition(), as: UTF8.self).contains(secret))
        #expect(refresher.status.tokensSet == 0)
    }

    @Test func aTokenEndpointThatRecoversClearsTheProblem() async throws {
        let fake = try await FakeEntraTokenEndpoint()
        defer { Task { await fake.shutdown() } }
        fake.failAlways(.status(503, error: "temporarily_unavailable", code: 50012, description: "Service unavailable."))
        let cluster = try MockKafkaCluster(brokers: 1)
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let statistics = ExportedStatistics()
        let (source, _) = try Self.source(
            fake, secret: FakeEntraTokenEndpoint.Options().clientSecret!, cluster: cluster, directory: directory, statistics: statistics,
            logger: Logger(label: "entra"))
        try source.start()
        defer { source.stop() }
        let refresher = try #require(source.tokenRefresher)

        #expect(await eventually(timeout: .seconds(20)) { refresher.problem?.contains("HTTP 503") == true })
        fake.failAlways(nil)
        #expect(await eventually(timeout: .seconds(20)) { refresher.status.tokensSet >= 1 })
        #expect(refresher.problem == nil)
        #expect(statistics.source.oauthTokenRefreshFailures.value >= 1)
        #expect(statistics.source.oauthTokenRefreshes.value >= 1)
    }
}

/// The source's and the spool's series in one Prometheus registry, as a gateway exposes them.
struct ExportedStatistics {
    let metrics = PrometheusMetricsRegistry()
    let source: SourceStatistics
    let spool: SpoolStatistics

    init() {
        source = SourceStatistics(registry: metrics)
        spool = SpoolStatistics(registry: metrics)
    }

    func exposition() -> [UInt8] { metrics.exposition() }
}
