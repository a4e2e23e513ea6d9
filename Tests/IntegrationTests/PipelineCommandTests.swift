import Foundation
import LogBridgeTestKit
import Testing

/// `logbridge pipeline test` on the shipped examples and their sample lines: what operators run
/// before deploying rules.
@Suite struct PipelineCommandTests {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// Runs the dry run on `sample` with the example's secrets pointed at stand-ins.
    func dryRun(example: String, sample: String, extra: [String] = []) throws -> (status: Int32, stdout: [String], stderr: String) {
        let directory = TemporaryDirectory(prefix: "logbridge-dry-run")
        defer { directory.remove() }
        let secret = directory.file("secret")
        try "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=a2V5-and-more-bytes"
            .write(toFile: secret, atomically: true, encoding: .utf8)
        var yaml = try String(contentsOfFile: Self.root + "/conf/examples/" + example, encoding: .utf8)
        while let range = yaml.range(of: #"\$\{file:/run/secrets/[a-z-]+\}"#, options: .regularExpression) {
            yaml.replaceSubrange(range, with: "${file:\(secret)}")
        }
        try yaml.write(toFile: directory.file("config.yaml"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try LogBridgeBinary.locate())
        process.arguments = ["pipeline", "test", "--config", directory.file("config.yaml")] + extra
        process.standardInput = FileHandle(forReadingAtPath: Self.root + "/conf/examples/samples/" + sample)
        FileManager.default.createFile(atPath: directory.file("out"), contents: nil)
        FileManager.default.createFile(atPath: directory.file("err"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory.file("out"))
        process.standardError = FileHandle(forWritingAtPath: directory.file("err"))
        try process.run()
        process.waitUntilExit()
        let out = try String(contentsOfFile: directory.file("out"), encoding: .utf8)
        return (process.terminationStatus, out.split(separator: "\n").map(String.init), try String(contentsOfFile: directory.file("err"), encoding: .utf8))
    }

    /// `--topic` sets %kafka.topic for the lines: the Heavy Forwarder example routes aks-audit to
    /// its audit sink only; stderr names each event's time and the field it came from.
    @Test func topicRoutesAndEventTimesCanBeTried() throws {
        let audit = try dryRun(example: "eventhubs-to-splunk.yaml", sample: "kubernetes-cri.ndjson", extra: ["--sink", "splunk-audit", "--topic", "aks-audit"])
        #expect(audit.status == 0)
        #expect(audit.stdout.count == 8)
        let app = try dryRun(example: "eventhubs-to-splunk.yaml", sample: "kubernetes-cri.ndjson", extra: ["--sink", "splunk-audit"])
        #expect(app.status == 0)
        #expect(app.stdout.isEmpty, "the first configured topic, aks-logs, goes to the other sink")
        let routed = try dryRun(example: "eventhubs-to-splunk.yaml", sample: "kubernetes-cri.ndjson", extra: ["--sink", "splunk"])
        #expect(routed.stdout.count == 8)
        // These lines carry their time inside the CRI text only (the kubernetes example's cri
        // processor reads it): the Kafka timestamp would be used.
        #expect(audit.stderr.contains("line 1: event time: none in the record (looked for @timestamp, time, timestamp, ts)"), "\(audit.stderr)")
        let cri = try dryRun(example: "kubernetes-cri-redaction.yaml", sample: "kubernetes-cri.ndjson")
        #expect(cri.stderr.contains("line 1: event time 2026-11-21T10:00:00.101Z (set by the pipeline)"), "\(cri.stderr)")
    }

    @Test func kubernetesExampleJoinsRedactsAndDrops() throws {
        let (status, lines, errors) = try dryRun(example: "kubernetes-cri-redaction.yaml", sample: "kubernetes-cri.ndjson")
        #expect(status == 0)
        // 8 input lines: the health check is dropped and two fragments are joined into one.
        #expect(lines.count == 6)
        let all = lines.joined(separator: "\n")
        for secret in ["jane.doe@example.com", "4111 1111 1111 1111", "EMP-004211", "+44 20 7946 0958", "eyJhbGciOiJIUzI1NiJ9",
                       "c2VjcmV0a2V5MTIzNDU2Nzg5MA", "bob@example.org", "192.168.10.5", "10.244.1.17"] {
            #expect(!all.contains(secret), "\(secret) survived")
        }
        // Decoys stay: a Luhn-failing order number, a trace id, a path id, a version.
        for decoy in ["4929123456781234", "4bf92f3577b34da6a3ce929d0e0e4736", "/api/v1/orders/48213", "curl/8.4.0"] {
            #expect(all.contains(decoy), "\(decoy) was damaged")
        }
        #expect(lines[0].contains("1111"), "partial mode keeps the card's last 4 digits")
        #expect(!lines.contains { $0.contains("healthz") })
        #expect(lines[2].contains(#"payment refused for customer [REDACTED:employee_id] (card ending 0004"#))
        #expect(lines[2].contains(#""stream":"stderr""#))
        #expect(errors.contains("line 8: not a JSON object"))
        // Hash mode: the same address gives the same token on every line and every run.
        let token = lines[0].range(of: #"\[email:[0-9a-f]{16}\]"#, options: .regularExpression).map { String(lines[0][$0]) }
        #expect(token != nil)
        let again = try dryRun(example: "kubernetes-cri-redaction.yaml", sample: "kubernetes-cri.ndjson")
        #expect(again.stdout == lines)
    }

    @Test func meteoExampleTypesAndTimesTheColumns() throws {
        let (status, lines, errors) = try dryRun(example: "meteo-csv-to-elasticsearch.yaml", sample: "meteo.csv", extra: ["--metrics"])
        #expect(status == 0)
        #expect(lines.count == 3, "the header line is skipped")
        #expect(lines[0] == #"{"message":"LFPG;21/11/2026 10:00;7.5;81;1013.2","station":"LFPG","date":"21/11/2026 10:00","temperature":7.5,"humidity":81,"pressure":1013.2}"#)
        #expect(lines[2].contains(#""pipeline_error":"convert: temperature is not a valid float""#))
        #expect(errors.contains("line 4: convert: temperature is not a valid float"))
        #expect(errors.contains(#"logbridge_pipeline_discarded_events_total{sink="dry-run",reason="filter"} 1"#))
    }

    @Test func aBrokenPipelineIsRefusedWithItsLine() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-dry-run")
        defer { directory.remove() }
        try """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: [logs]
        spool:
          path: \(directory.file("spool"))
        pipeline:
          - type: regex
            pattern: "(?P<x>unclosed"
        sinks:
          out:
            type: console
        """.write(toFile: directory.file("bad.yaml"), atomically: true, encoding: .utf8)
        let log = directory.file("log")
        let process = try LogBridgeBinary.run(try LogBridgeBinary.locate(), ["pipeline", "test", "--config", directory.file("bad.yaml")], log: log)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        let output = try String(contentsOfFile: log, encoding: .utf8)
        #expect(output.contains("line 8"))
        #expect(output.contains("pipeline[0]"))
    }
}
