import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeDelivery
import LogBridgeKafka
import LogBridgeSinks
import LogBridgeTestKit
import Logging
import Testing

/// Operating a running gateway: /metrics read by the Prometheus reference parser, /readyz following
/// the group and the sinks, configuration reloads during delivery, SIGHUP and SIGTERM on the real
/// binary, and a long sink outage with memory sampled.
@Suite(.serialized)
struct OperationsTests {
    static func elasticsearchSink(_ url: String, batchSize: Int = 500, concurrency: Int = 2) -> SinkConfiguration {
        var http = HTTPSinkSettings(endpoints: [url], ejectAfterFailures: 2, ejectionTime: .milliseconds(300))
        http.maxBackoff = .milliseconds(500)
        return SinkConfiguration(
            name: "es", kind: ElasticsearchSinkConfiguration(http: http),
            runner: SinkRunnerConfiguration(
                batchSize: batchSize, maxBatchBytes: 1 << 20, interval: .milliseconds(50), maxBackoff: .milliseconds(500),
                concurrency: concurrency))
    }

    /// The same sink as YAML, for the real binary: 2,000-record bulks, short backoff and ejection.
    static func elasticsearchSinkYAML(_ url: String) -> String {
        """
          es:
            type: elasticsearch
            endpoints: ["\(url)"]
            index: "logs"
            batch_size: 2000
            max_backoff: 500ms
            ejection_time: 300ms
        """
    }

    @Test func metricsAreValidPrometheusTextAndReadyzFollowsTheGroupAndTheSink() async throws {
        let partitions = 4
        let records = 6_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let es = try await FakeElasticsearch()
        let harness = GatewayHarness(bootstrap: cluster.bootstrapServers, group: "ops-metrics", sinks: [Self.elasticsearchSink(es.url)])
        defer { harness.directory.remove() }
        // Every broker down at the start: the member cannot join until they return, so the probe
        // below sees it not ready however slowly this test task runs.
        for broker in 1...3 { cluster.setBrokerDown(Int32(broker)) }
        let running = try harness.start()
        let port = try #require(await running.gateway.admin?.boundPort())
        let base = "http://127.0.0.1:\(port)"

        // Before the group hands out partitions, the member is not ready.
        let early = try await AdminProbe.get(base + "/readyz")
        #expect(early.status == 503)
        #expect(early.body.contains("consumer group 'ops-metrics'"))
        #expect(try await AdminProbe.get(base + "/healthz").status == 200)
        for broker in 1...3 { cluster.setBrokerUp(Int32(broker)) }

        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(60)) { statistics.sink("es").delivered.value >= records })
        #expect(try await AdminProbe.get(base + "/readyz").status == 200)

        let exposition = try await AdminProbe.get(base + "/metrics")
        #expect(exposition.status == 200)
        let samples = try AdminProbe.parseWithReferenceParser(exposition.body)
        // The reference parser and ours read the same samples.
        let ours = try PrometheusText.parse(exposition.body)
        #expect(ours.count == samples.count)
        #expect(samples.sum("logbridge_source_records_total") == Double(records))
        #expect(samples.labelValues("logbridge_source_records_total", label: "partition") == ["0", "1", "2", "3"])
        #expect(samples.value("logbridge_spool_records_total") == Double(records))
        #expect(samples.value("logbridge_sink_records_delivered_total", ["sink": "es"]) == Double(records))
        #expect(samples.value("logbridge_sink_endpoint_up", ["sink": "es", "endpoint": es.url]) == 1)
        #expect((samples.value("logbridge_sink_request_duration_seconds_count", ["sink": "es", "endpoint": es.url]) ?? 0) >= 1)
        #expect(samples.value("logbridge_sink_batch_records_count", ["sink": "es"]) == samples.value("logbridge_sink_batches_total", ["sink": "es"]))
        #expect(samples.value("logbridge_source_group_joined") == 1)
        #expect((samples.value("logbridge_config_last_reload_success_timestamp_seconds") ?? 0) > 1_700_000_000)
        #expect(samples.value("logbridge_source_revoke_commit_failures_total") == 0)
        #expect(samples.value("logbridge_source_assigned_partitions") == Double(partitions))
        #expect(samples.sum("logbridge_source_consumer_lag") == 0)
        #expect((samples.value("process_resident_memory_bytes") ?? 0) > 1_048_576)

        // The destination goes down: its endpoint is ejected and the member stops being ready...
        es.setOutage(503)
        try cluster.seed(records: 400, from: records, partitions: partitions)
        var down: AdminProbe.Response?
        for _ in 0..<200 {
            let answer = try await AdminProbe.get(base + "/readyz")
            if answer.status == 503 {
                down = answer
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(down?.body.contains("sink es: no healthy endpoint") == true)
        let during = try AdminProbe.parseWithReferenceParser(try await AdminProbe.get(base + "/metrics").body)
        #expect((during.value("logbridge_sink_delivery_failures_total", ["sink": "es"]) ?? 0) >= 2)
        #expect((during.value("logbridge_sink_records_retried_total", ["sink": "es"]) ?? 0) >= 1)
        #expect((during.value("logbridge_sink_backlog_records", ["sink": "es"]) ?? 0) >= 1)

        // ...and ready again once it answers, with every record stored once.
        es.setOutage(nil)
        #expect(await running.wait(timeout: .seconds(60)) { statistics.sink("es").delivered.value >= records + 400 })
        var ready = false
        for _ in 0..<100 where !ready {
            ready = try await AdminProbe.get(base + "/readyz").status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready)
        try await running.stop()
        #expect(es.documentCount == records + 400)
        #expect(es.conflicts == 0)
        await es.shutdown()
    }

    @Test func reloadsDuringDeliveryLoseAndDuplicateNothing() async throws {
        let partitions = 8
        let records = 24_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        // 20 ms per bulk keeps delivery going through the reloads.
        let es = try await FakeElasticsearch(latency: .milliseconds(20))
        let harness = GatewayHarness(
            bootstrap: cluster.bootstrapServers, group: "ops-reload", sinks: [Self.elasticsearchSink(es.url, batchSize: 200, concurrency: 1)])
        defer { harness.directory.remove() }
        let running = try harness.start()
        let statistics = running.statistics
        #expect(await running.wait(timeout: .seconds(60)) { statistics.sink("es").delivered.value >= 2_000 })

        // Tuning: bigger batches, more requests at once.
        var tuned = harness.configuration
        tuned.sinks = [Self.elasticsearchSink(es.url, batchSize: 1_000, concurrency: 4)]
        // Read before the reload: the tuned runners may finish the rest before this task runs
        // again on a loaded machine, which says nothing about where the reload happened.
        let beforeTuning = statistics.sink("es").delivered.value
        try await running.gateway.reload(tuned)
        #expect(running.gateway.configuration.sinks[0].runner.batchSize == 1_000)
        #expect(beforeTuning < records, "the reload happened mid-stream")

        // What needs a restart is refused, and nothing changes.
        var refused = tuned
        refused.spool.maxBytes /= 2
        refused.sinks[0].name = "renamed"
        await #expect(throws: ReloadError.self) { try await running.gateway.reload(refused) }
        #expect(running.gateway.configuration.sinks[0].name == "es")
        #expect(statistics.configReloadFailures.value == 1)

        // A changed source leaves the group (committing its offsets) and joins again.
        var rejoin = tuned
        rejoin.source.properties["fetch.wait.max.ms"] = "50"
        let firstSource = running.gateway.source
        try await running.gateway.reload(rejoin)
        #expect(running.gateway.source !== firstSource)

        #expect(await running.wait(timeout: .seconds(90)) { statistics.sink("es").delivered.value >= records })
        try await running.stop()
        #expect(statistics.configReloads.value == 2)
        #expect(statistics.spool.spooled.value == records)
        #expect(es.documentCount == records)
        #expect(es.conflicts == 0, "no record was indexed twice")
        await es.shutdown()
    }

    @Test func aMemberJoiningAndLeavingDuringDeliveryIndexesEveryRecordOnce() async throws {
        let partitions = TwoMembers.partitions
        // 100 ms per bulk of 200 records; what keeps A delivering its spool until B has joined is
        // the outage below, not this pace (a join was seen taking over 14 s on a loaded CI
        // machine, which let A finish first when only a slow fake held it back).
        let members = try await TwoMembers(group: "ops-rebalance", seeded: 16_000, latency: .milliseconds(100))
        let (cluster, es) = (members.cluster, members.es)
        defer { members.remove() }
        let first = try members.a.start(logger: Logger(label: "member-a"))
        // Two seconds of delivery: A's spooled offsets have been auto-committed at least once (the
        // mock cluster may refuse the revoke commit; see the test below).
        #expect(await first.wait { first.delivered("es") >= 2_000 })
        // Elasticsearch answers 503 (indexing nothing) while B joins, so A still holds records
        // however long the join takes.
        es.setOutage(503)
        let second = try members.b.start(logger: Logger(label: "member-b"))
        #expect(await TwoMembers.shared(first, second))
        // A keeps what it spooled before the rebalance and delivers it; B starts after A's offsets.
        #expect(es.documentCount < 16_000, "the rebalance happened during delivery")
        es.setOutage(nil)
        try cluster.seed(records: 16_000, from: 16_000, partitions: partitions)
        #expect(await second.wait(timeout: .seconds(90)) { second.delivered("es") > 0 && es.documentCount >= 32_000 })
        // B leaves; A takes its partitions back after B's committed offsets.
        try await second.stop()
        try cluster.seed(records: 8_000, from: 32_000, partitions: partitions)
        #expect(await first.wait(timeout: .seconds(90)) { es.documentCount >= 40_000 })
        // Time for a wrongly repeated record to arrive before the counts are read.
        try await Task.sleep(for: .milliseconds(500))
        try await first.stop()
        #expect(es.documentCount == 40_000)
        #expect(es.conflicts == 0, "no record was indexed twice")
        #expect(first.statistics.source.rebalances.value >= 2)
        await es.shutdown()
    }

    /// Records produced while a second member joins: nothing is lost, and the new owner starts
    /// after what the first member spooled unless the coordinator refused the revoke commit.
    ///
    /// librdkafka's mock cluster refuses commits while the group is joining (Kafka brokers accept
    /// them from the current generation) and restarts the join when a follower's SyncGroup arrives
    /// after the leader's, so here the revoke commit is sometimes refused while no auto-commit has
    /// run since the records were spooled. The gateway must then count the refusal; repeats without
    /// a counted refusal fail the test.
    @Test func recordsArrivingWhileAMemberJoinsLoseNothingAndRepeatOnlyAfterARefusedCommit() async throws {
        let partitions = TwoMembers.partitions
        let members = try await TwoMembers(group: "ops-join-seeding", seeded: 0, latency: .milliseconds(100))
        let (cluster, es) = (members.cluster, members.es)
        defer { members.remove() }
        let first = try members.a.start(logger: Logger(label: "member-a"))
        #expect(await first.wait { first.gateway.source.assignment.count == partitions })
        let second = try members.b.start(logger: Logger(label: "member-b"))
        try cluster.seed(records: 16_000, from: 0, partitions: partitions)
        #expect(await TwoMembers.shared(first, second))
        try cluster.seed(records: 16_000, from: 16_000, partitions: partitions)
        #expect(await second.wait(timeout: .seconds(90)) { es.documentCount >= 32_000 })
        // Time for a repeated record to arrive before the counts are read.
        try await Task.sleep(for: .milliseconds(500))
        let refusedCommits = first.statistics.source.revokeCommitFailures.value
        try await second.stop()
        try await first.stop()
        #expect(es.documentCount == 32_000)
        let conflicts = es.conflicts
        #expect(conflicts == 0 || refusedCommits > 0, "\(conflicts) records indexed twice without a refused revoke commit")
        await es.shutdown()
    }

    @Test func sighupAppliesAValidFileKeepsTheRunningOneOnErrorsAndSigtermDrains() async throws {
        let partitions = 4
        let records = 30_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let directory = TemporaryDirectory(prefix: "logbridge-sighup")
        defer { directory.remove() }
        let admin = AdminProbe.freePort()
        func sinks(batchSize: Int) -> String {
            """
              archive:
                type: file
                path: "\(directory.file("out.ndjson"))"
                batch_size: \(batchSize)
            """
        }
        let config = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "ops-sighup", sinks: sinks(batchSize: 100), admin: admin,
            extra: "shutdown_timeout: 20s")
        let process = try LogBridgeBinary.run(try LogBridgeBinary.locate(), ["run", "--config", config], log: directory.file("run.log"))
        let metrics = "http://127.0.0.1:\(admin)/metrics"
        func sample(_ name: String) async -> Double? {
            guard let body = await AdminProbe.tryGet(metrics)?.body, let samples = try? PrometheusText.parse(body) else { return nil }
            return samples.value(name)
        }
        func waitFor(_ name: String, atLeast value: Double) async -> Bool {
            for _ in 0..<600 {
                if let seen = await sample(name), seen >= value { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        #expect(await waitFor("logbridge_source_group_joined", atLeast: 1))
        // No core file could carry the secrets it loaded; its start time does not need /proc/stat
        // (hidden by the unit's ProcSubset=pid).
        let limits = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/limits", encoding: .utf8)) ?? ""
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }?.split(separator: " ")
        #expect(core?.dropFirst(4).prefix(2) == ["0", "0"], "soft and hard RLIMIT_CORE are 0")
        let started = await sample("process_start_time_seconds") ?? 0
        #expect(abs(started - Date().timeIntervalSince1970) < 120)

        _ = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "ops-sighup", sinks: sinks(batchSize: 2_000), admin: admin,
            extra: "shutdown_timeout: 20s")
        kill(process.processIdentifier, SIGHUP)
        #expect(await waitFor("logbridge_config_reloads_total", atLeast: 1))

        try "sinks: [\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        #expect(await waitFor("logbridge_config_reload_failures_total", atLeast: 1))
        #expect(process.isRunning, "a broken file never stops the gateway")

        // The running configuration keeps delivering; SIGTERM then drains and exits 0.
        let outcome = await waitFor("logbridge_spool_records_total", atLeast: Double(records))
        #expect(outcome)

        // `logbridge status` reads the same endpoint: two refreshes as JSON, rates on the second.
        let binary = try LogBridgeBinary.locate()
        let status = try CommandLine.capture(
            binary, ["status", "--admin", "http://127.0.0.1:\(admin)", "--json", "--count", "2", "--interval", "0.5"])
        #expect(status.status == 0)
        let frames = status.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(frames.count == 2)
        let sinkRows = frames.last?["sinks"] as? [[String: Any]]
        #expect(sinkRows?.first?["name"] as? String == "archive")
        #expect(sinkRows?.first?["records_per_s"] as? NSNumber != nil)
        let stopped = ContinuousClock.now
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(ContinuousClock.now - stopped < .seconds(25), "drained within shutdown_timeout")
        let audit = DeliveryAudit(files: [directory.file("out.ndjson")])
        #expect(audit.unique == records)
        // `spool stats` after the drain: nothing left for the sink.
        _ = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "ops-sighup", sinks: sinks(batchSize: 100), admin: admin)
        let stats = try CommandLine.capture(binary, ["spool", "stats", "--config", config, "--json"])
        #expect(stats.status == 0)
        let spool = try JSONSerialization.jsonObject(with: Data(stats.output.utf8)) as? [String: Any]
        #expect(spool?["records"] as? Int == 0)
        #expect((spool?["sinks"] as? [[String: Any]])?.first?["backlog"] as? Int == 0)
        #expect(spool?["next_sequence"] as? Int == records)
        #expect(audit.duplicates == 0)
        let log = (try? String(contentsOfFile: directory.file("run.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("line 2: YAML syntax error"), "the rejected file's error names its line")
    }

    @Test func aLongSinkOutageKeepsMemoryFlatPausesKafkaAndLosesNothing() async throws {
        let partitions = 32
        let records = 160_000  // ~50 MB against a 24 MiB spool
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let es = try await FakeElasticsearch(keepDocuments: false)
        es.setOutage(503)
        let directory = TemporaryDirectory(prefix: "logbridge-outage")
        defer { directory.remove() }
        let admin = AdminProbe.freePort()
        let config = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "ops-outage", sinks: Self.elasticsearchSinkYAML(es.url), admin: admin, spoolMaxBytes: "24MiB",
            // Uncompressed, so the records overflow the spool (compressed, they would fit).
            spoolCompression: "none")
        let process = try LogBridgeBinary.run(try LogBridgeBinary.locate(), ["run", "--config", config], log: directory.file("run.log"))
        let base = "http://127.0.0.1:\(admin)"
        var peakRSS = 0
        var sawPaused = false
        var sawSpoolFull = false
        var notReadyForSpool = false
        // The outage, compressed: the spool fills, Kafka pauses, then 15 s more of nothing delivered.
        var pausedSince: ContinuousClock.Instant?
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            peakRSS = max(peakRSS, AdminProbe.residentBytes(pid: process.processIdentifier) ?? 0)
            if let body = await AdminProbe.tryGet(base + "/metrics")?.body, let samples = try? PrometheusText.parse(body) {
                if (samples.value("logbridge_source_paused_partitions") ?? 0) > 0 { sawPaused = true }
                if samples.value("logbridge_spool_full") == 1 { sawSpoolFull = true }
            }
            if sawSpoolFull, !notReadyForSpool, let ready = await AdminProbe.tryGet(base + "/readyz") {
                notReadyForSpool = ready.status == 503 && ready.body.contains("spool: not accepting records")
            }
            if sawPaused && pausedSince == nil { pausedSince = .now }
            if let since = pausedSince, ContinuousClock.now - since > .seconds(15) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(sawPaused)
        #expect(sawSpoolFull)
        #expect(notReadyForSpool)
        #expect(es.documentCount == 0)

        // The destination comes back: the backlog drains, Kafka resumes, every record arrives once.
        es.setOutage(nil)
        let drainDeadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < drainDeadline, es.documentCount < records {
            peakRSS = max(peakRSS, AdminProbe.residentBytes(pid: process.processIdentifier) ?? 0)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(es.documentCount == records)
        #expect(es.conflicts == 0)
        let after = try AdminProbe.parseWithReferenceParser(try await AdminProbe.get(base + "/metrics").body)
        #expect(after.value("logbridge_source_paused_partitions") == 0)
        #expect(after.value("logbridge_spool_full") == 0)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(peakRSS > 0)
        #expect(peakRSS < 256 << 20, "peak RSS \(peakRSS >> 20) MiB")
        await es.shutdown()
    }

    /// The spool's filesystem fills up for real (a 16 MiB tmpfs, ENOSPC from the kernel, not
    /// `max_bytes`) while Elasticsearch is down: the gateway pauses Kafka, reports it, keeps running,
    /// and once the sink is back it frees room, resumes and delivers every record once. A restart
    /// on the same spool then opens it cleanly and delivers nothing again.
    @Test(.enabled(if: SmallFilesystem.available, "mounting a tmpfs needs root"))
    func aFullSpoolFilesystemPausesRecoversAndCorruptsNothing() async throws {
        let partitions = 16
        // ~30 MB of records against a 4 MiB filesystem: the spool compresses them (lz4, the default)
        // to about a fifth, still more than the filesystem holds.
        let records = 100_000
        let cluster = try MockKafkaCluster.seeded(records: records, partitions: partitions)
        let es = try await FakeElasticsearch(keepDocuments: false)
        es.setOutage(503)
        let directory = TemporaryDirectory(prefix: "logbridge-disk-full")
        let filesystem = try SmallFilesystem(at: directory.file("spool"), size: "4m")
        defer {
            filesystem.remove()
            directory.remove()
        }
        let admin = AdminProbe.freePort()
        let config = try LogBridgeBinary.writeConfig(
            in: directory, bootstrap: cluster.bootstrapServers, group: "ops-disk-full", sinks: Self.elasticsearchSinkYAML(es.url), admin: admin, spoolMaxBytes: "1GiB")
        let binary = try LogBridgeBinary.locate()
        let process = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run.log"))
        let base = "http://127.0.0.1:\(admin)"
        func samples() async -> [PrometheusSample]? {
            guard let body = await AdminProbe.tryGet(base + "/metrics")?.body else { return nil }
            return try? PrometheusText.parse(body)
        }
        var sawFull = false
        var sawPaused = false
        var notReady = false
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline, !(sawFull && sawPaused && notReady) {
            if let current = await samples() {
                sawFull = sawFull || current.value("logbridge_spool_full") == 1
                sawPaused = sawPaused || (current.value("logbridge_source_paused_partitions") ?? 0) > 0
            }
            if sawFull, let ready = await AdminProbe.tryGet(base + "/readyz") {
                notReady = notReady || (ready.status == 503 && ready.body.contains("spool: not accepting records"))
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(sawFull)
        #expect(sawPaused)
        #expect(notReady)
        let log = (try? String(contentsOfFile: directory.file("run.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("spool is out of space"), "the kernel's ENOSPC, not max_bytes, filled the spool")
        // Several seconds on a full disk: still running, nothing delivered, nothing lost yet.
        try await Task.sleep(for: .seconds(5))
        #expect(process.isRunning)
        #expect(es.documentCount == 0)

        es.setOutage(nil)
        let drainDeadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < drainDeadline, es.documentCount < records {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(es.documentCount == records)
        #expect(es.conflicts == 0)
        let after = await samples()
        #expect(after?.value("logbridge_spool_full") == 0)
        #expect(after?.value("logbridge_source_paused_partitions") == 0)
        #expect(after?.value("logbridge_spool_quarantined_records_total") == 0)
        #expect(after?.value("logbridge_spool_write_errors_total") == 0, "a full disk is not counted as a write error")
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        // The spool survived the full disk: it opens, holds no backlog, and nothing is sent again.
        let stats = try CommandLine.capture(binary, ["spool", "stats", "--config", config, "--json"])
        #expect(stats.status == 0)
        let restarted = try LogBridgeBinary.run(binary, ["run", "--config", config], log: directory.file("run-2.log"))
        // Time for the restarted gateway to send anything again (nothing should come).
        try await Task.sleep(for: .seconds(8))
        #expect(restarted.isRunning)
        kill(restarted.processIdentifier, SIGTERM)
        restarted.waitUntilExit()
        #expect(restarted.terminationStatus == 0)
        #expect(es.documentCount == records)
        #expect(es.conflicts == 0)
        await es.shutdown()
    }
}

/// Two gateways in one consumer group over an 8-partition topic, delivering to one Elasticsearch
/// fake (batches of 200, one request at a time) whose `latency` keeps delivery going during a
/// rebalance.
struct TwoMembers {
    static let partitions = 8
    let cluster: MockKafkaCluster
    let es: FakeElasticsearch
    let a: GatewayHarness
    let b: GatewayHarness

    init(group: String, seeded records: Int, latency: Duration) async throws {
        cluster = try MockKafkaCluster.seeded(records: records, partitions: Self.partitions)
        es = try await FakeElasticsearch(latency: latency)
        let sink = OperationsTests.elasticsearchSink(es.url, batchSize: 200, concurrency: 1)
        a = GatewayHarness(bootstrap: cluster.bootstrapServers, group: group, sinks: [sink])
        b = GatewayHarness(bootstrap: cluster.bootstrapServers, group: group, sinks: [sink])
    }

    func remove() {
        a.directory.remove()
        b.directory.remove()
    }

    /// Waits until the second member holds partitions the first gave up.
    static func shared(_ first: GatewayHarness.Running, _ second: GatewayHarness.Running) async -> Bool {
        await second.wait(timeout: .seconds(60)) {
            second.gateway.source.assignment.count > 0 && first.gateway.source.assignment.count < partitions
        }
    }
}

/// Runs a command to completion, capturing standard output.
enum CommandLine {
    static func capture(_ binary: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
