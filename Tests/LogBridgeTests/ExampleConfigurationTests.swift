import Foundation
import LogBridge
import Testing

/// Every configuration shipped in `conf/` loads, with its secrets supplied the way operators do.
@Suite struct ExampleConfigurationTests {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var examples: [String] {
        let directory = root + "/conf/examples"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return ["conf/logbridge.yaml"] + names.filter { $0.hasSuffix(".yaml") }.sorted().map { "conf/examples/\($0)" }
    }

    @Test(arguments: examples)
    func shippedConfigurationIsValid(_ relativePath: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logbridge-examples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Point every ${file:/run/secrets/...} at a stand-in secret.
        let secret = directory.appendingPathComponent("secret").path
        try "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=a2V5"
            .write(toFile: secret, atomically: true, encoding: .utf8)
        var yaml = try String(contentsOfFile: Self.root + "/" + relativePath, encoding: .utf8)
        while let range = yaml.range(of: #"\$\{file:/run/secrets/[a-z-]+\}"#, options: .regularExpression) {
            yaml.replaceSubrange(range, with: "${file:\(secret)}")
        }
        let loaded = try LogBridgeConfiguration.parse(yaml: yaml, file: relativePath, environment: [:])
        #expect(!loaded.configuration.sinks.isEmpty)
        #expect(!loaded.effectiveYAML().contains("a2V5"))
    }

    @Test func elasticsearchKeysAreCheckedLikeEveryOther() {
        let yaml = """
            source:
              kafka:
                brokers: [b:9092]
                topics: [logs]
            spool:
              path: /tmp/s
            sinks:
              es:
                type: elasticsearch
                endpoints: ["es1:9200"]
                index: "logs-%q"
                compression: brotli
                concurency: 3
            """
        do {
            _ = try LogBridgeConfiguration.parse(yaml: yaml, environment: [:])
            Issue.record("accepted")
        } catch {
            let paths = Set(error.issues.map(\.path))
            #expect(paths.contains("sinks.es.endpoints[0]"))
            #expect(paths.contains("sinks.es.index"))
            #expect(paths.contains("sinks.es.compression"))
            #expect(paths.contains("sinks.es.concurency"))
        }
    }
}
