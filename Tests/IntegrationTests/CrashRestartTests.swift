import Foundation
import LogBridgeKafka
import LogBridgeTestKit
import Synchronization
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
        let config = try LogBridgeBinary.writeConfig(in: directory, bootstrap: cluster.bootstrapServers, group: "crash-test", sinks: """
              archive:
                type: file
                path: "\(output)"
                batch_size: 2000
            """)
        // Random moments: during group join, mid-consumption or mid-delivery.
        let (kills, last) = try await LogBridgeBinary.killRepeatedly(config: config, in: directory, rounds: 6, afterMilliseconds: 300...2_500)
        try await LogBridgeBinary.stop(last, when: { DeliveryAudit(files: [output]).lines >= records })

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

    /// Writes a configuration for a run against the mock cluster, with fast group timeouts so a
    /// restarted process does not wait long for its killed predecessor to leave the group.
    static func writeConfig(
        in directory: TemporaryDirectory, bootstrap: String, group: String, sinks: String, admin: Int = 0, extra: String = "",
        spoolMaxBytes: String = "512MiB", spoolCompression: String = "lz4", sessionTimeoutMilliseconds: Int = 3000
    ) throws -> String {
        let path = directory.file("logbridge.yaml")
        try """
        source:
          kafka:
            brokers: ["\(bootstrap)"]
            topics: ["logs"]
            group_id: "\(group)"
            properties:
              session.timeout.ms: "\(sessionTimeoutMilliseconds)"
              heartbeat.interval.ms: "300"
        spool:
          path: "\(directory.file("spool"))"
          max_bytes: "\(spoolMaxBytes)"
          compression: \(spoolCompression)
        sinks:
        \(sinks)
        admin:
          listen: "127.0.0.1:\(admin)"
        log:
          level: warning
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts `logbridge run` `rounds` times, `kill -9`ing each after a random delay, then starts
    /// the final run and returns it. With `progress`, the delay counts from the moment that count
    /// grows in the round (a sink's requests, say), not from the start: a group join slowed by a
    /// loaded machine cannot make every kill land before delivery began.
    static func killRepeatedly(
        config: String, in directory: TemporaryDirectory, rounds: Int, afterMilliseconds window: ClosedRange<Int>,
        progress: (() -> Int)? = nil
    ) async throws -> (kills: Int, last: Process) {
        let binary = try locate()
        var kills = 0
        for round in 0..<rounds {
            let before = progress?()
            let process = try run(binary, ["run", "--config", config], log: directory.file("run-\(round).log"))
            if let progress, let before {
                _ = await eventually(timeout: .seconds(60), interval: .milliseconds(20)) { progress() > before }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: window)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills += 1
        }
        return (kills, try run(binary, ["run", "--config", config], log: directory.file("run-final.log")))
    }

    /// Waits (up to two minutes) until `condition` holds, gives duplicates a second to show up,
    /// then stops the process gracefully with SIGTERM.
    static func stop(_ process: Process, when condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline, !condition() {
            try await Task.sleep(for: .milliseconds(250))
        }
        try await Task.sleep(for: .seconds(1))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    static func run(_ binary: String, _ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        process.standardError = handle
        process.standardOutput = handle
        process.terminationHandler = { ended in
            let now = ContinuousClock.now
            exits.withLock { $0[ObjectIdentifier(ended)] = now }
        }
        try process.run()
        return process
    }

    /// When each process ``run(_:_:log:)`` started exited, stamped by Foundation's own thread as
    /// it reaps the child: a test that bounds how long an exit took must not count the time its
    /// own task waited for the (possibly busy) Swift pool to notice.
    /// Keyed by the `Process` object, not its pid, which a later process may reuse.
    private static let exits = Mutex<[ObjectIdentifier: ContinuousClock.Instant]>([:])

    /// When `process` exited, if it has.
    static func exitInstant(_ process: Process) -> ContinuousClock.Instant? {
        exits.withLock { $0[ObjectIdentifier(process)] }
    }
}
