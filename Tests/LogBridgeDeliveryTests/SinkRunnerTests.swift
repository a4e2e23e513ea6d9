import LogBridgeCore
import LogBridgeDelivery
import LogBridgeSinks
import LogBridgeSpool
import LogBridgeTestSupport
import Logging
import Synchronization
import Testing

/// The driver between the spool and a sink, with a real spool and a sink written for the test.
@Suite struct SinkRunnerTests {
    let logger = Logger(label: "delivery-test")

    func open(_ directory: TemporaryDirectory, statistics: SpoolStatistics = SpoolStatistics()) throws -> Spool {
        try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: 64 << 20), sinks: ["test"],
            statistics: statistics, logger: logger)
    }

    /// Fails its first delivery (a destination that is down), then takes every record but those
    /// whose value holds `reject`, which it returns as dead letters.
    final class FlakySink: Sink, Sendable {
        let name = "test"
        private let state = Mutex<(attempts: Int, delivered: [String])>((0, []))

        var attempts: Int { state.withLock { $0.attempts } }
        var delivered: [String] { state.withLock { $0.delivered } }

        func open(restoring checkpoint: SinkCheckpoint) async throws(SinkError) {}

        func deliver(_ batch: RecordBatch) async throws(SinkError) -> SinkDelivery {
            let first = state.withLock { state in
                state.attempts += 1
                return state.attempts == 1
            }
            if first { throw SinkError(sink: name, message: "destination down") }
            var letters: [DeadLetter] = []
            var taken: [String] = []
            for record in batch.records {
                let value = batch.withValue(of: record) { String(decoding: $0, as: UTF8.self) }
                if value.contains("reject") {
                    letters.append(DeadLetter(
                        stage: name, reason: "rejected by the test", topic: "logs", partition: record.partition,
                        offset: record.offset, timestampMs: record.timestampMs, deadLetteredAtMs: 0,
                        payload: Array(value.utf8)))
                } else {
                    taken.append(value)
                }
            }
            state.withLock { $0.delivered += taken }
            return SinkDelivery(deadLetters: letters)
        }

        func close() async {}
    }

    @Test func everyRecordIsDeliveredOnceInOrderAfterARetryAndRejectionsAreDeadLettered() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try open(directory)
        defer { spool.close() }
        let values = (0..<250).map { $0 % 50 == 7 ? "reject-\($0)" : "record-\($0)" }
        #expect(spool.offer(
            TestIngest.batch(values.enumerated().map { TestIngest.Item(partition: 0, offset: Int64($0), value: Array($1.utf8)) }),
            timeout: .seconds(5)))

        let sink = FlakySink()
        let runner = SinkRunner(
            sink: sink, spool: spool,
            configuration: SinkRunnerConfiguration(batchSize: 40, initialBackoff: .milliseconds(10)),
            statistics: SinkStatisticsTable(), logger: logger)
        let running = Task { try await runner.run() }
        defer { running.cancel() }
        #expect(await eventually { spool.checkpoint(sink: "test").nextSequence == 250 }, "the cursor reached the end")
        #expect(sink.attempts >= 2, "the failed batch was retried")
        #expect(sink.delivered == values.filter { !$0.hasPrefix("reject") }, "each record once, in spool order")
        let letters = try spool.deadLetters(limit: 100)
        #expect(letters.map { String(decoding: $0.payload, as: UTF8.self) } == values.filter { $0.hasPrefix("reject") })
        #expect(letters.allSatisfy { $0.stage == "test" && $0.reason == "rejected by the test" })
    }

    @Test func aSpoolNotebookKeepsItsNotesAcrossARestart() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let spool = try open(directory)
            let notebook = SinkNotebook(spool: spool, sink: "test")
            try await notebook.save("channels", Array("abc".utf8))
            try await notebook.save("gone", [1])
            try await notebook.save("gone", nil)
            spool.close()
        }
        let spool = try open(directory)
        defer { spool.close() }
        let notebook = SinkNotebook(spool: spool, sink: "test")
        #expect(try notebook.load("channels") == Array("abc".utf8))
        #expect(try notebook.load("gone") == nil)
        #expect(try SinkNotebook(spool: spool, sink: "other").load("channels") == nil, "notes belong to one sink")
    }
}
