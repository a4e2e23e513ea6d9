import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeKafka
import LogBridgeTestKit
import Logging
import Testing

/// A stop is bounded whatever Kafka does: with every broker unreachable the real binary exits 0
/// within `shutdown_timeout`, a second signal ends it at once, and a reload that must rejoin the
/// group does not wait on the unreachable coordinator. Nothing is lost or repeated after.
@Suite(.serialized)
struct StopBoundTests {
    @Test func sigtermWhileEveryBrokerIsDownExitsWithinTheBoundAndLosesNothing() async throws {
        let partitions = 4
        let records = 20_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let directory = TemporaryDirectory(prefix: "logbridge-stop-bound")
        defer { directory.remove() }
        let output = directory.file("events.ndjson")
        // A 10 s session: librdkafka's synchronous commit waits that long for an unreachable
        // coordinator per attempt, which the stop must not.
        let config = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "stop-bound", sinks: """
                  archive:
                    type: file
                    path: "\(output)"
                    batch_size: 500
                """, extra: "shutdown_timeout: 6s", sessionTimeoutMilliseconds: 10_000)
        let binary = try LogBridgeBinary.locate()
        let first = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run-1.log"))
        #expect(await Self.wait { DeliveryAudit(files: [output]).lines >= 2_000 })
        for broker in 1...3 { cluster.setBrokerDown(Int32(broker)) }
        try await Task.sleep(for: .seconds(1))  // brokers down for a while before the stop, not just at it

        let signalled = ContinuousClock.now
        kill(first.processIdentifier, SIGTERM)
        let exited = await Self.waitForExit(first, timeout: .seconds(60))
        let took = (LogBridgeBinary.exitInstant(first) ?? .now) - signalled
        #expect(exited, "the process ended")
        #expect(took < .seconds(6 + 5), "stopped in \(took), bound: shutdown_timeout 6 s + 5 s")
        #expect(first.terminationStatus == 0)
        let log = (try? String(contentsOfFile: directory.file("run-1.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("could not leave the consumer group by the stop deadline"), "\(log.suffix(2_000))")

        // The brokers return; the next start resumes from the spool's offsets.
        for broker in 1...3 { cluster.setBrokerUp(Int32(broker)) }
        let second = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run-2.log"))
        try await LogBridgeBinary.stop(second, when: { DeliveryAudit(files: [output]).lines >= records })
        let audit = DeliveryAudit(files: [output])
        #expect(second.terminationStatus == 0)
        #expect(audit.malformed == 0, "\(audit)")
        #expect(audit.unique == records, "\(audit)")
        #expect(audit.duplicates == 0, "\(audit)")
    }

    @Test func aSecondSignalExitsAtOnce() async throws {
        let records = 2_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: 2)
        let directory = TemporaryDirectory(prefix: "logbridge-second-signal")
        defer { directory.remove() }
        // Nothing listens on the sink's port: the drain would wait the whole shutdown_timeout.
        let admin = AdminProbe.freePort()
        let config = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "second-signal", sinks: """
                  es:
                    type: elasticsearch
                    endpoints: ["http://127.0.0.1:9"]
                """, admin: admin, extra: "shutdown_timeout: 60s")
        let binary = try LogBridgeBinary.locate()
        let process = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run.log"))
        var spooled = false
        for _ in 0..<600 where !spooled {
            let metrics = await AdminProbe.tryGet("http://127.0.0.1:\(admin)/metrics")?.body ?? ""
            spooled = metrics.split(separator: "\n").contains { $0.hasPrefix("logbridge_spool_records_total ") && !$0.hasSuffix(" 0") }
            if !spooled { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(spooled)
        kill(process.processIdentifier, SIGTERM)
        try await Task.sleep(for: .seconds(2))
        #expect(process.isRunning, "the first signal starts a drain that waits for the sink")
        let second = ContinuousClock.now
        kill(process.processIdentifier, SIGINT)
        let exited = await Self.waitForExit(process, timeout: .seconds(10))
        let took = (LogBridgeBinary.exitInstant(process) ?? .now) - second
        #expect(exited)
        // The exit as Foundation's reaper thread saw it, not when a test task polling every
        // 100 ms noticed (the whole suite on two cores once delayed that to 1.03 s). Without the
        // second signal the process would wait for the sink until shutdown_timeout (60 s here).
        #expect(took < .seconds(3), "exited \(took) after the second signal")
        #expect(process.terminationStatus == 128 + SIGINT)
        let log = (try? String(contentsOfFile: directory.file("run.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("second SIGINT during the stop: exiting now"), "\(log.suffix(2_000))")
    }

    @Test func aReloadThatRejoinsWhileEveryBrokerIsDownIsBounded() async throws {
        let partitions = 4
        let records = 12_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        // A 10 s session, as above; shutdown_timeout 10 s gives the old source 5 s to leave.
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, group: "stop-bound-reload", properties: ["session.timeout.ms": "10000"])
        defer { harness.directory.remove() }
        let logs = LogRecorder()
        let running = try harness.start(logger: Logger(label: "reload") { _ in logs })
        #expect(await running.wait { running.delivered >= 2_000 })
        for broker in 1...3 { cluster.setBrokerDown(Int32(broker)) }
        try await Task.sleep(for: .seconds(1))  // brokers down for a while before the reload, not just at it

        var rejoin = harness.configuration
        rejoin.source.properties["fetch.wait.max.ms"] = "50"
        let started = ContinuousClock.now
        try await running.gateway.reload(rejoin)
        let took = ContinuousClock.now - started
        // Bounded, it takes ~5.1 s here; unbounded, it would wait for the brokers, which stay down
        // until it returns. The slack is wide because the suite runs tests side by side on 2 cores;
        // the log line below is what shows the old source gave up leaving at its deadline.
        #expect(took < .seconds(5 + 10), "the reload took \(took); the old source's bound is 5 s")
        #expect(logs.messages.contains { $0.contains("could not leave the consumer group by the stop deadline") })

        for broker in 1...3 { cluster.setBrokerUp(Int32(broker)) }
        // The new member waits for the old one's session to expire, then takes every partition.
        #expect(await running.wait(timeout: .seconds(90)) { running.delivered >= records })
        // Time for a repeated record to arrive before the audit.
        try await Task.sleep(for: .seconds(1))
        try await running.stop()
        let audit = DeliveryAudit(files: [harness.outputPath])
        #expect(audit.unique == records, "\(audit)")
        #expect(audit.duplicates == 0, "\(audit)")
    }

    static func wait(timeout: Duration = .seconds(60), until condition: () -> Bool) async -> Bool {
        await eventually(timeout: timeout, interval: .milliseconds(100), condition)
    }

    static func waitForExit(_ process: Process, timeout: Duration) async -> Bool {
        // The reaper's stamp, which bounds are read from, follows `isRunning` by a moment.
        let exited = await wait(timeout: timeout) { !process.isRunning && LogBridgeBinary.exitInstant(process) != nil }
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return exited
    }
}
