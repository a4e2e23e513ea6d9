import Foundation
import LogBridge
import LogBridgeSpool
import Testing

/// `sinks.NAME.backlog`: parsed with its defaults, refused with key and line, shown by `check`.
@Suite struct BacklogConfigurationTests {
    static func yaml(_ backlog: String) -> String {
        """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["logs"]
            group_id: "logbridge"
        spool:
          path: "/var/lib/logbridge"
        sinks:
          archive:
            type: file
            path: "/var/log/logbridge/events.ndjson"
          loki:
            type: loki
            endpoints: ["http://loki:3100"]
            labels: {job: logbridge}
        \(backlog)
        """
    }

    @Test func aSinkBlocksByDefaultAndTakesItsLimitsAndPolicy() throws {
        let plain = try LogBridgeConfiguration.parse(yaml: Self.yaml(""), environment: [:])
        #expect(plain.configuration.sinks.map(\.backlog) == [.block, .block])
        let loaded = try LogBridgeConfiguration.parse(
            yaml: Self.yaml("    backlog: {max_bytes: \"2GiB\", max_age: 6h, when_full: skip_oldest}"), environment: [:])
        let loki = loaded.configuration.sinks[1].backlog
        #expect(loki == SinkBacklogLimit(maxBytes: 2 << 30, maxAge: .seconds(6 * 3600), whenFull: .skipOldest))
        #expect(loaded.warnings.isEmpty)
        let shown = loaded.effectiveYAML()
        #expect(shown.contains("    backlog: {when_full: block}  # lossless"))
        #expect(shown.contains("    backlog: {max_bytes: 2GiB, max_age: 6h, when_full: skip_oldest}  # past the limit"))
    }

    @Test func badValuesAreNamedWithTheirKeyAndLine() {
        func issues(_ backlog: String) -> [ConfigurationIssue] { configurationIssues(Self.yaml(backlog)) }
        let policy = issues("    backlog: {when_full: drop_newest}")
        #expect(policy.map(\.path) == ["sinks.loki.backlog.when_full"])
        #expect(policy.first?.line == 16)
        #expect(issues("    backlog:\n      max_bytes: 10").map(\.path) == ["sinks.loki.backlog.max_bytes"])
        #expect(issues("    backlog:\n      max_age: 0s").first?.line == 17)
        #expect(issues("    backlog: {max_items: 5}").first?.description.contains("unknown key 'max_items'") == true)
    }

    @Test func limitsWithoutSkipOldestDrawAWarning() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.yaml("    backlog: {max_bytes: \"1GiB\"}"), environment: [:])
        #expect(loaded.configuration.sinks[1].backlog == SinkBacklogLimit(maxBytes: 1 << 30))
        #expect(loaded.warnings.map(\.path) == ["sinks.loki.backlog"])
    }

    @Test func aByteLimitTheSpoolCannotHoldDrawsAWarning() throws {
        // The default spool: 10 GiB, paused at 90%.
        let loaded = try LogBridgeConfiguration.parse(
            yaml: Self.yaml("    backlog: {max_bytes: \"9728MiB\", when_full: skip_oldest}"), environment: [:])
        #expect(loaded.warnings.map(\.path) == ["sinks.loki.backlog.max_bytes"])
        #expect(loaded.warnings.first?.line == 16)
        #expect(loaded.warnings.first?.message.contains("9GiB") == true)
        let fits = try LogBridgeConfiguration.parse(
            yaml: Self.yaml("    backlog: {max_bytes: \"2GiB\", when_full: skip_oldest}"), environment: [:])
        #expect(fits.warnings.isEmpty)
    }
}
