import Foundation
import LogBridgeKafka
import LogBridgeTestKit
import Testing

/// Crash safety with the real binary: `kill -9` at random moments, restart, count what arrived.
@Suite(.serialized)
struct CrashRestartTests {
    @Test func killNineAtRandomMomentsLosesAndDuplicatesNothing() async throws {
        let partitions = 8
        let records = 80_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let directory = TemporaryDirectory(prefix: "logbridge-crash")
        defer { directory.remove() }
        let output = directory.file("events.ndjson")
        let config = directory.file("logbridge.yaml")
        try """
        source:
          kafka:
            brokers: ["\(cluster.bootstrapServers)"]
            topics: ["logs"]
            group_id: "crash-test"
            properties:
              session.timeout.ms: "3000"
              heartbeat.interval.ms: "300"
        spool:
          path: "\(directory.file("spool"))"
          max_bytes: "512MiB"
        sinks:
          archive:
            type: file
            path: "\(output)"
            batch_size: 2000
        log:
          level: warning
        """.write(toFile: config, atomically: true, encoding: .utf8)

        let binary = try LogBridgeBinary.locate()
        var kills = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<6 {
            let process = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run-\(round).log"))
            // Random moment: during group join, mid-consumption or mid-delivery.
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...2_500, using: &generator)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
        }
        // Final run to completion, then a graceful stop.
        let last = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run-final.log"))
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, DeliveryAudit(files: [output]).lines < records {
            try await Task.sleep(for: .milliseconds(250))
        }
        // Anything duplicated would show up after the last expected record: give it a moment.
        try await Task.sleep(for: .seconds(1))
        kill(last.processIdentifier, SIGTERM)
        last.waitUntilExit()

        let audit = DeliveryAudit(files: [output])
        #expect(kills == 6)
        #expect(last.terminationStatus == 0, "graceful stop exits 0")
        #expect(audit.malformed == 0, "no torn lines: \(audit)")
        #expect(audit.unique == records, "\(audit)")
        #expect(audit.duplicates == 0, "\(audit)")
        #expect(audit.missing(partitions: partitions, perPartition: DeliveryAudit.roundRobin(count: records, partitions: partitions)) == 0)
    }
}

/// Finds and starts the `logbridge` executable built alongside the tests.
enum LogBridgeBinary {
    struct NotFound: Error, CustomStringConvertible {
        var description: String { "logbridge binary not found next to the test bundle or in .build/debug" }
    }

    static func locate() throws -> String {
        var candidates: [String] = []
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(exe.appendingPathComponent("logbridge").path)
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/logbridge")
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { throw NotFound() }
        return found
    }

    static func run(_ binary: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        return process
    }
}
