import Foundation
import LogBridgeCore
import LogBridgeSpool
import LogBridgeTestKit
import Logging
import Testing

/// The `logbridge` command's public contract: exit codes and what `check` and `version` print.
@Suite struct CommandLineTests {
    /// `c.yaml` in `directory`: a spool there and one file sink, `archive` (the dlq commands' tests),
    /// then `moreSinks` (YAML at the sinks' indentation).
    func writeArchiveConfiguration(in directory: TemporaryDirectory, moreSinks: String = "") throws {
        try ("""
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: [logs]
        spool:
          path: \(directory.file("spool"))
        sinks:
          archive:
            type: file
            path: \(directory.file("out.ndjson"))

        """ + moreSinks).write(toFile: directory.file("c.yaml"), atomically: true, encoding: .utf8)
    }

    func run(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        let log = directory.file("out.log")
        let process = try LogBridgeBinary.run(try LogBridgeBinary.locate(), arguments, log: log)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func checkPrintsTheEffectiveConfigurationWithSecretsMasked() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        try "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=S3CRETKEYVALUE="
            .write(toFile: directory.file("eventhubs"), atomically: true, encoding: .utf8)
        try """
        source:
          kafka:
            connection_string: "${file:\(directory.file("eventhubs"))}"
            topics: [aks-logs]
        spool:
          path: \(directory.file("spool"))
        sinks:
          archive:
            type: file
            path: \(directory.file("out.ndjson"))
        """.write(toFile: directory.file("good.yaml"), atomically: true, encoding: .utf8)
        let (status, output) = try run(["check", "--config", directory.file("good.yaml")])
        #expect(status == 0)
        #expect(output.contains("connection_string: ********"))
        #expect(output.contains("max_bytes: 10GiB"), "defaults are filled in")
        #expect(!output.contains("S3CRETKEYVALUE"))
    }

    @Test func checkNamesTheKeyAndLineOfEveryProblemAndExitsOne() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        try """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: [logs]
            group_id: "${file:/nonexistent/group}"
        spool:
          path: /tmp/x
          max_bytes: lots
        sinks:
          archive:
            type: file
            path: /tmp/x.ndjson
            colour: blue
        """.write(toFile: directory.file("bad.yaml"), atomically: true, encoding: .utf8)
        let (status, output) = try run(["check", "--config", directory.file("bad.yaml")])
        #expect(status == 1)
        #expect(output.contains("line 5: source.kafka.group_id: cannot read /nonexistent/group"))
        #expect(output.contains("line 8: spool.max_bytes:"))
        #expect(output.contains("line 13: sinks.archive.colour: unknown key 'colour'"))
    }

    /// Issue 15, items 3 and 8 on the real binary: values that used to trap or hang `check`
    /// (an overflowing size and duration, a FIFO behind `${file:}`) and a URL with credentials end
    /// in exit 1 with every problem named, within seconds, and the password never printed.
    @Test func checkRefusesHostileValuesWithoutCrashingHangingOrEchoingCredentials() async throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        let fifo = directory.file("token.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        try """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: [logs]
            max_record_bytes: 4611686018427387904
        spool:
          path: \(directory.file("spool"))
          max_bytes: 99999999999999GiB
        sinks:
          hec:
            type: splunk_hec
            endpoints: ["https://admin:hunter2-pass@idx1.example.internal:8088"]
            token: "${file:\(fifo)}"
            request_timeout: 1e400s
        shutdown_timeout: 9999999999999999h
        """.write(toFile: directory.file("hostile.yaml"), atomically: true, encoding: .utf8)
        let log = directory.file("out.log")
        let process = try LogBridgeBinary.run(try LogBridgeBinary.locate(), ["check", "--config", directory.file("hostile.yaml")], log: log)
        let deadline = ContinuousClock.now + .seconds(20)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(process.terminationReason == .exit, "\(output)")
        #expect(process.terminationStatus == 1, "\(output)")
        #expect(output.contains("line 5: source.kafka.max_record_bytes: must be between 1KiB and 1GiB"), "\(output)")
        #expect(output.contains("line 8: spool.max_bytes: expected a size between 1MiB and 16TiB"), "\(output)")
        #expect(output.contains("line 12: sinks.hec.endpoints[0]: https://idx1.example.internal:8088: credentials in the URL"), "\(output)")
        #expect(output.contains("line 13: sinks.hec.token: cannot read \(fifo) referenced by ${file:}: it is a FIFO"), "\(output)")
        #expect(output.contains("line 14: sinks.hec.request_timeout: expected a duration between 100ms and 1h"), "\(output)")
        #expect(output.contains("line 15: shutdown_timeout:"), "\(output)")
        #expect(!output.contains("hunter2"))
        #expect(!output.contains("admin:"))
    }

    @Test func checkWarnsAboutAWorldReadableSecretFile() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        let secret = directory.file("eventhubs")
        try "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=S3CRETKEYVALUE="
            .write(toFile: secret, atomically: true, encoding: .utf8)
        #expect(chmod(secret, 0o604) == 0)
        try """
        source:
          kafka:
            connection_string: "${file:\(secret)}"
            topics: [aks-logs]
        spool:
          path: \(directory.file("spool"))
        sinks:
          archive:
            type: file
            path: \(directory.file("out.ndjson"))
        """.write(toFile: directory.file("good.yaml"), atomically: true, encoding: .utf8)
        let (status, output) = try run(["check", "--config", directory.file("good.yaml")])
        #expect(status == 0, "a warning is not an error")
        #expect(output.contains("# warning: line 3: source.kafka.connection_string: \(secret) referenced by ${file:} is readable by every user (mode 0604)"), "\(output)")
        #expect(!output.contains("S3CRETKEYVALUE"))
        #expect(chmod(secret, 0o600) == 0)
        #expect(!(try run(["check", "--config", directory.file("good.yaml")]).output.contains("warning")))
    }

    @Test func versionNamesTheCLibraries() throws {
        let (status, output) = try run(["version"])
        #expect(status == 0)
        #expect(output.contains("librdkafka 2."))
        #expect(output.contains("LMDB 0.9"))
    }

    @Test func dlqListShowsDeadLettersWhileTheSpoolIsOpen() throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxRecordBytes: 1024),
            sinks: ["archive"], statistics: SpoolStatistics(), logger: Logger(label: "cli"))
        defer { spool.close() }
        #expect(spool.offer(TestIngest.batch([
            .init(partition: 2, offset: 7, value: Array(repeating: UInt8(ascii: "x"), count: 4096)),
            .init(partition: 2, offset: 8, value: Array("fine".utf8)),
        ]), timeout: .seconds(1)))
        _ = spool.finishWrites(revoking: [])
        try writeArchiveConfiguration(in: directory)
        let (status, output) = try run(["dlq", "list", "--config", directory.file("c.yaml")])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""stage":"source""#) == true)
        #expect(lines.first?.contains(#""partition":2,"offset":7"#) == true)
        #expect(lines.first?.contains(#""bytes":4096"#) == true)
        let (_, none) = try run(["dlq", "list", "--config", directory.file("c.yaml"), "--sink", "archive"])
        #expect(none.split(separator: "\n").filter { $0.hasPrefix("{") }.isEmpty)
    }

    @Test func dlqReplaySendsLettersBackToTheirSinkOnlyAndPurgeNeedsATarget() async throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        let configuration = SpoolConfiguration(path: directory.file("spool"), maxRecordBytes: 1024)
        func letter(_ stage: String, _ offset: Int64) -> DeadLetter {
            DeadLetter(stage: stage, reason: "HTTP 400: mapper_parsing_exception", status: "400", topic: "logs", partition: 3,
                       offset: offset, timestampMs: 1_795_000_000_000, deadLetteredAtMs: 0, payload: Array("record \(offset)".utf8))
        }
        var spool: Spool? = try Spool(configuration: configuration, sinks: ["archive", "es"], statistics: SpoolStatistics(), logger: Logger(label: "cli"))
        try await spool!.deadLetter([letter("archive", 1), letter("es", 2), letter("archive", 3), letter("source", 4)])
        try writeArchiveConfiguration(in: directory, moreSinks: """
              es:
                type: elasticsearch
                endpoints: ["http://127.0.0.1:9"]
            """)
        let config = directory.file("c.yaml")

        let (busy, busyOutput) = try run(["dlq", "replay", "--config", config])
        #expect(busy == 1)
        #expect(busyOutput.contains("in use: stop the gateway first"), "\(busyOutput)")
        spool?.close()
        spool = nil

        let (status, output) = try run(["dlq", "replay", "--config", config, "--sink", "archive"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("replayed 2 dead letters for sink archive"))

        let reopened = try Spool(configuration: configuration, sinks: ["archive", "es"], statistics: SpoolStatistics(), logger: Logger(label: "cli"))
        let forArchive = try reopened.read(from: 0, maxRecords: 10, maxBytes: 1 << 20, for: "archive")
        #expect(forArchive.records.map(\.offset) == [1, 3], "original topic, partition and offset kept")
        #expect(forArchive.records.map(\.partition) == [3, 3])
        #expect(forArchive.withValue(of: forArchive.records[0]) { String(decoding: $0, as: UTF8.self) } == "record 1")
        let forES = try reopened.read(from: 0, maxRecords: 10, maxBytes: 1 << 20, for: "es")
        #expect(forES.isEmpty, "a replayed letter goes to the sink that rejected it only")
        #expect(forES.nextSequence == 2, "the other sink's cursor passes over it")
        #expect(try reopened.deadLetters(limit: 10).map(\.stage) == ["es", "source"])
        reopened.close()

        let (refused, refusal) = try run(["dlq", "purge", "--config", config])
        #expect(refused == 1)
        #expect(refusal.contains("--sink NAME, or --all"))
        let (purged, purgeOutput) = try run(["dlq", "purge", "--config", config, "--all"])
        #expect(purged == 0, "\(purgeOutput)")
        #expect(purgeOutput.contains("purged 2 dead letters"))
    }

    @Test func dlqListShowsTheKeptPrefixOfAFiveMiBRecordAndReplayLeavesTruncatedLetters() async throws {
        let directory = TemporaryDirectory(prefix: "logbridge-cli")
        defer { directory.remove() }
        let configuration = SpoolConfiguration(path: directory.file("spool"), maxRecordBytes: 1 << 20)
        let spool = try Spool(configuration: configuration, sinks: ["archive"], statistics: SpoolStatistics(), logger: Logger(label: "cli"))
        #expect(spool.offer(TestIngest.batch([
            .init(partition: 2, offset: 7, value: Array(repeating: UInt8(ascii: "x"), count: 5 << 20)),
        ]), timeout: .seconds(5)))
        _ = spool.finishWrites(revoking: [])
        // A sink's letters: one whole, one over max_record_bytes (a record spooled before the
        // limit was lowered), with a reason far longer than anyone reads.
        func letter(_ offset: Int64, size: Int) -> DeadLetter {
            DeadLetter(stage: "archive", reason: "HTTP 400: " + String(repeating: "trace ", count: 100_000), status: "400", topic: "logs",
                       partition: 3, offset: offset, timestampMs: 1_795_000_000_000, deadLetteredAtMs: 0,
                       payload: Array(repeating: UInt8(ascii: "y"), count: size))
        }
        try await spool.deadLetter([letter(1, size: 10), letter(2, size: 3 << 20)])
        spool.close()
        try writeArchiveConfiguration(in: directory)
        let config = directory.file("c.yaml")

        let (status, output) = try run(["dlq", "list", "--config", config, "--sink", "source", "--payload"])
        #expect(status == 0, "\(output)")
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("{") })
        #expect(line.contains(#""partition":2,"offset":7"#))
        #expect(line.contains(#""bytes":5242880,"payload_bytes":1048576,"truncated":true"#))
        #expect(line.contains(#""payload":""# + String(repeating: "x", count: 1 << 20) + #""}"#), "the kept prefix, no more")

        let (_, letters) = try run(["dlq", "list", "--config", config, "--sink", "archive"])
        let listed = letters.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(listed.count == 2)
        #expect(listed.first?.contains(#""bytes":10,"payload_bytes":10,"truncated":false"#) == true)
        #expect(listed.last?.contains(#""bytes":3145728,"payload_bytes":1048576,"truncated":true"#) == true)
        #expect(listed.allSatisfy { $0.utf8.count < 5_000 }, "the reason was capped at 4 KiB")

        let (replayed, replay) = try run(["dlq", "replay", "--config", config])
        #expect(replayed == 0, "\(replay)")
        #expect(replay.contains("replayed 1 dead letter;"))
        #expect(replay.contains("kept 1 truncated dead letter (only a prefix of the record was stored"))
        let (_, after) = try run(["dlq", "list", "--config", config, "--sink", "archive"])
        let left = after.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(left.count == 1)
        #expect(left.first?.contains(#""offset":2"#) == true)
    }
}
