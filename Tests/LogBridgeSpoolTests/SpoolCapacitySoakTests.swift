import Foundation
import LogBridgeCore
import LogBridgeSpool
import LogBridgeTestSupport
import Logging
import Testing

/// Whether a spool keeps its capacity through many outages: each round fills it to the high
/// watermark (the source's pause), then a sink drains part of the backlog, as a destination that
/// comes and goes does for months.
///
/// Segments are LMDB overflow pages, which need a contiguous run of free pages. If freed runs
/// were too fragmented to reuse, LMDB would append pages at the end of the file until the map is
/// full (`MDB_MAP_FULL`), and the spool would stop taking records while its live bytes are still
/// under `max_bytes`: capacity lost without any record lost. So every round must reach the
/// watermark with the spool still writable, and the file must stay within the map.
///
/// `make soak` runs 400 rounds (`LOGBRIDGE_SOAK_ROUNDS`) and writes each round's figures to
/// `LOGBRIDGE_SOAK_REPORT`; `make test` runs 10.
@Suite struct SpoolCapacitySoakTests {
    @Test func aSpoolFilledToItsWatermarkAndPartlyDrainedKeepsItsCapacity() async throws {
        let environment = ProcessInfo.processInfo.environment
        let rounds = environment["LOGBRIDGE_SOAK_ROUNDS"].flatMap(Int.init) ?? 10
        let maxBytes = 24 << 20
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let spool = try Spool(
            configuration: SpoolConfiguration(path: directory.file("spool"), maxBytes: maxBytes, compression: .lz4),
            sinks: ["a"], statistics: SpoolStatistics(), logger: Logger(label: "spool-soak-test"))
        defer { spool.close() }
        // Blocking offers and barriers run on a thread of their own, off Swift's cooperative pool.
        let worker = DedicatedThread(name: "spool-soak-test")
        defer { worker.shutdown() }
        let noise = TestIngest.incompressible(count: 8 << 20, seed: 11)
        var report = ["round,records_held,used_bytes,file_bytes,drained_records,writable"]
        var fileSizes: [Int] = []
        var offset: Int64 = 0
        var random = SeededRandom(state: 7)
        for round in 0..<rounds {
            let start = offset
            let filled = try await worker.run { [spool, noise] () -> (offset: Int64, writable: Bool, batches: Int) in
                var random = SeededRandom(state: UInt64(round) &+ 1000)
                var offset = start
                var batches = 0
                // Batches differ in size and in how well they compress (from Fluent Bit-like
                // lines to random bytes), so segments, and the runs of pages they take, differ.
                while !spool.wantsSourcePaused, spool.isWritable, batches < 10_000 {
                    let count = 200 + Int(random.next() % 700)
                    let noisy = random.next() % 4
                    var items: [TestIngest.Item] = []
                    items.reserveCapacity(count)
                    for _ in 0..<count {
                        let value: [UInt8]
                        if random.next() % 4 < noisy {
                            let length = 300 + Int(random.next() % 1500)
                            let cut = Int(random.next() % UInt64(noise.count - length))
                            value = Array(noise[cut..<(cut + length)])
                        } else {
                            value = Array(Self.line(offset, &random).utf8)
                        }
                        items.append(TestIngest.Item(partition: 0, offset: offset, value: value))
                        offset += 1
                    }
                    guard spool.offer(TestIngest.batch(items), timeout: .seconds(10)) else { break }
                    _ = spool.finishWrites(revoking: [])
                    batches += 1
                }
                return (offset, spool.isWritable, batches)
            }
            offset = filled.offset
            let cursor = spool.checkpoint(sink: "a").nextSequence
            let held = spool.nextSequence - cursor
            let used = spool.usage.usedBytes
            let file = (try FileManager.default.attributesOfItem(atPath: directory.file("spool/data.mdb"))[.size] as? Int) ?? 0
            fileSizes.append(file)
            #expect(filled.writable, "round \(round): the map filled before the watermark (\(used) bytes live, file \(file))")
            #expect(spool.wantsSourcePaused, "round \(round): the watermark was reached")
            // A destination back for a while: it drains 30-95% of the backlog, which takes the
            // spool under the low watermark so the source resumes.
            let drained = held * (30 + random.next() % 66) / 100
            try await spool.commit(sink: "a", checkpoint: SinkCheckpoint(nextSequence: cursor + drained))
            // What is left is still read from where the sink stands.
            let next = try await worker.run { [spool] in try spool.read(from: cursor + drained, maxRecords: 10, maxBytes: 1 << 20) }
            #expect(next.records.first?.sequence == cursor + drained)
            report.append("\(round),\(held),\(used),\(file),\(drained),\(filled.writable)")
        }
        if let path = environment["LOGBRIDGE_SOAK_REPORT"] {
            try report.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        // The map is max_bytes plus 16 MiB (or 5%) of room for cursor commits; the file may use
        // all of it, never more.
        #expect(fileSizes.max()! <= maxBytes + (16 << 20), "data.mdb sizes after each round: \(fileSizes)")
    }

    /// A container log line of Fluent Bit's shape, with varied fields.
    static func line(_ offset: Int64, _ random: inout SeededRandom) -> String {
        let namespace = ["payments", "checkout", "search", "identity"][Int(random.next() % 4)]
        let latency = random.next() % 5_000
        return #"{"@timestamp":1764817200.\#(offset % 1_000_000),"log":"GET /api/v1/items/\#(offset) 200 \#(latency)ms","#
            + #""stream":"stdout","kubernetes":{"namespace_name":"\#(namespace)","pod_name":"web-\#(random.next() % 97)"}}"#
    }
}
