import LogBridgeKafka
import Testing

@Suite struct EventHubsConnectionStringTests {
    @Test func aNamespaceConnectionStringYieldsTheKafkaEndpoint() throws {
        let parsed = try EventHubsConnectionString(
            "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abc=;EntityPath=aks-logs")
        #expect(parsed.bootstrapServer == "contoso.servicebus.windows.net:9093")
        #expect(parsed.entityPath == "aks-logs")
    }

    @Test(arguments: [
        ("SharedAccessKeyName=a;SharedAccessKey=SECRETVALUE", "Endpoint"),
        ("Endpoint=https://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=SECRETVALUE", "sb://"),
        ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKey=SECRETVALUE", "SharedAccessKeyName"),
        ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=", "SharedAccessKey"),
        ("just-a-SECRETVALUE", "NAME=VALUE"),
    ])
    func malformedStringsAreRejectedWithoutEchoingTheKey(text: String, mentions: String) {
        do {
            _ = try EventHubsConnectionString(text)
            Issue.record("accepted \(mentions) case")
        } catch {
            #expect(error.description.contains(mentions))
            #expect(!error.description.contains("SECRETVALUE"))
        }
    }
}
