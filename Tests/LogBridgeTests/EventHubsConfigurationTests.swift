import Foundation
import LogBridge
import LogBridgeKafka
import LogBridgeTestKit
import Testing

/// Event Hubs' client settings and Entra ID sign-in as `check` sees them.
@Suite struct EventHubsConfigurationTests {
    static let connection = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0LWtleQ=="

    static func yaml(_ source: String) -> String {
        """
        source:
          kafka:
        \(source.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
            topics: [logs]
        spool:
          path: /tmp/spool
        sinks:
          out:
            type: console
        """
    }

    func issues(_ source: String, environment: [String: String] = [:]) -> [ConfigurationIssue] {
        configurationIssues(Self.yaml(source), environment: environment)
    }

    @Test func microsoftsRecommendedSettingsAreDefaultsAndVisibleInCheckOutput() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.yaml("connection_string: \"\(Self.connection)\""), environment: [:])
        let properties = Dictionary(loaded.configuration.source.librdkafkaProperties(clientID: "x"), uniquingKeysWith: { $1 })
        let expected = [
            "connections.max.idle.ms": "180000", "metadata.max.age.ms": "180000", "socket.keepalive.enable": "true",
            "socket.timeout.ms": "60000", "session.timeout.ms": "30000", "heartbeat.interval.ms": "3000",
            "max.poll.interval.ms": "300000", "ssl.endpoint.identification.algorithm": "https", "security.protocol": "SASL_SSL",
        ]
        let printed = loaded.effectiveYAML()
        for (name, value) in expected {
            #expect(properties[name] == value, "\(name)")
            #expect(printed.contains("#   \(name)=\(value)\n"), "\(name) not shown by check")
        }
        #expect(printed.contains("#   sasl.password=********"))
        #expect(!printed.contains("c2VjcmV0"))
    }

    @Test func aPlainKafkaSourceGetsNoEventHubsOnlySettings() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.yaml("brokers: [\"127.0.0.1:9092\"]"), environment: [:])
        let properties = Dictionary(loaded.configuration.source.librdkafkaProperties(clientID: "x"), uniquingKeysWith: { $1 })
        #expect(properties["connections.max.idle.ms"] == nil)
        #expect(properties["security.protocol"] == nil)
        #expect(!loaded.effectiveYAML().contains("librdkafka settings for Event Hubs"))
    }

    static let weakening = [
        "security.protocol: SASL_PLAINTEXT", "sasl.mechanism: PLAIN", "sasl.password: hunter2",
        "sasl.oauthbearer.config: \"principal=x\"", "enable.sasl.oauthbearer.unsecure.jwt: \"true\"",
        "ssl.endpoint.identification.algorithm: none", "enable.ssl.certificate.verification: \"false\"",
        "ssl.ca.location: /tmp/evil-ca.pem",
    ]

    @Test(arguments: weakening)
    func propertiesThatWouldWeakenEventHubsSignInOrTLSAreRefusedWithTheirLine(_ property: String) {
        let name = String(property.split(separator: ":")[0])
        for signIn in ["connection_string: \"\(Self.connection)\"", Self.clientCredentials] {
            let found = issues("\(signIn)\nproperties:\n  \(property)", environment: ["SECRET": "client-secret~VALUE"])
            #expect(found.count == 1, "\(name)")
            #expect(found.first?.path == "source.kafka.properties.\(name)")
            #expect(found.first?.message.hasPrefix("refused with Event Hubs") == true)
            #expect(found.first?.line != nil)
            #expect(!(found.first?.message.contains("hunter2") ?? true))
        }
        // Against a plain Kafka cluster they remain the operator's business.
        #expect(issues("brokers: [\"kafka:9093\"]\nproperties:\n  \(property)").isEmpty, "\(name)")
    }

    static let clientCredentials = """
        entra_id:
          namespace: contoso
          tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
          client_id: 0f4c8a9e-3b1d-4e5f-9a2b-7c6d5e4f3a2b
          client_secret: "${env:SECRET}"
        """

    @Test func entraIDClientCredentialsLoadWithTheSecretMasked() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.yaml(Self.clientCredentials), environment: ["SECRET": "client-secret~VALUE"])
        let entra = try #require(loaded.configuration.source.entraID)
        #expect(entra.namespaceHost == "contoso.servicebus.windows.net")
        #expect(entra.credential == .clientSecret("client-secret~VALUE"))
        #expect(entra.scope == "https://contoso.servicebus.windows.net/.default")
        #expect(entra.tokenEndpoint == "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token")
        let properties = Dictionary(loaded.configuration.source.librdkafkaProperties(clientID: "x"), uniquingKeysWith: { $1 })
        #expect(properties["bootstrap.servers"] == "contoso.servicebus.windows.net:9093")
        #expect(properties["security.protocol"] == "SASL_SSL")
        #expect(properties["sasl.mechanisms"] == "OAUTHBEARER")
        #expect(properties["connections.max.idle.ms"] == "180000")
        #expect(properties["sasl.oauthbearer.config"] == nil && properties["enable.sasl.oauthbearer.unsecure.jwt"] == nil)
        let printed = loaded.effectiveYAML()
        #expect(printed.contains("client_secret: ********"))
        #expect(printed.contains("# bootstrap contoso.servicebus.windows.net:9093, SASL_SSL, OAUTHBEARER"))
        #expect(!printed.contains("client-secret~VALUE"))
    }

    @Test func workloadIdentityTakesWhatAKSPutsInTheEnvironmentUnlessTheFileSaysOtherwise() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let tokenFile = directory.file("azure-identity-token")
        try "federated".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let environment = [
            "AZURE_CLIENT_ID": "aaaaaaaa-0000-0000-0000-000000000001", "AZURE_TENANT_ID": "bbbbbbbb-0000-0000-0000-000000000002",
            "AZURE_FEDERATED_TOKEN_FILE": tokenFile, "AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us/",
        ]
        let fromEnvironment = try LogBridgeConfiguration.parse(
            yaml: Self.yaml("entra_id:\n  namespace: contoso.servicebus.usgovcloudapi.net\n  workload_identity: true"), environment: environment)
        let entra = try #require(fromEnvironment.configuration.source.entraID)
        #expect(entra.clientID == "aaaaaaaa-0000-0000-0000-000000000001")
        #expect(entra.tenantID == "bbbbbbbb-0000-0000-0000-000000000002")
        #expect(entra.authorityHost == "https://login.microsoftonline.us/")
        #expect(entra.credential == .workloadIdentity(federatedTokenFile: tokenFile))
        #expect(entra.scope == "https://contoso.servicebus.usgovcloudapi.net/.default")
        #expect(fromEnvironment.warnings.isEmpty)

        let overridden = try LogBridgeConfiguration.parse(
            yaml: Self.yaml("entra_id:\n  namespace: contoso\n  workload_identity: true\n  client_id: cccccccc-0000-0000-0000-000000000003"),
            environment: environment)
        #expect(overridden.configuration.source.entraID?.clientID == "cccccccc-0000-0000-0000-000000000003")

        let missing = issues("entra_id:\n  namespace: contoso\n  workload_identity: true")
        #expect(Set(missing.map(\.path)) == [
            "source.kafka.entra_id.tenant_id", "source.kafka.entra_id.client_id", "source.kafka.entra_id.federated_token_file",
        ])
        #expect(missing.allSatisfy { $0.message.contains("is not set, as AKS workload identity would") })
    }

    @Test func entraIDMistakesAreNamedWithTheirLine() {
        let base = "entra_id:\n  namespace: contoso\n  tenant_id: t\n  client_id: c\n"
        func only(_ extra: String, env: [String: String] = [:]) -> [String] { issues(base + extra, environment: env).map(\.path) }
        #expect(only("") == ["source.kafka.entra_id.client_secret"])
        #expect(only("  client_secret: s\n  workload_identity: true\n  federated_token_file: /f") == ["source.kafka.entra_id.client_secret"])
        #expect(only("  client_secret: s\n  authority_host: http://login.microsoftonline.com/") == ["source.kafka.entra_id.authority_host"])
        #expect(only("  client_secret: s\n  authority_host: http://127.0.0.1:8080/").isEmpty)
        #expect(only("  client_secret: s\n  scope: https://contoso.servicebus.windows.net/read") == ["source.kafka.entra_id.scope"])
        #expect(only("  client_secret: s\n  tenant: x") == ["source.kafka.entra_id.tenant"])
        let both = issues("brokers: [\"k:9092\"]\n" + base + "  client_secret: s")
        #expect(both.map(\.path) == ["source.kafka"])
        #expect(both.first?.message.contains("brokers and entra_id") == true)
        #expect(issues(base + "  client_secret: s").allSatisfy { $0.line != nil })
    }
}
