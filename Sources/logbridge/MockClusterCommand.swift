import ArgumentParser
import Foundation
import LogBridge
import LogBridgeKafka
import LogBridgeMockCluster

/// A mock Kafka cluster in its own process, for the crash tests, `make bench` and `make chaos`.
///
/// After `ready` it reads commands from standard input, one per line, and answers each with one
/// line, so a harness can drive the cluster while the real binary consumes from it:
/// - `topic NAME`: create topic NAME with `--partitions` partitions; answers `created NAME`.
/// - `produce COUNT [TOPIC]`: append COUNT more synthetic records (numbered after the seeded
///   ones); answers `produced=N` once the cluster acknowledged them.
/// - `pace TOPIC COUNT RATE`: produce COUNT records at RATE per second, each stamped with the wall
///   clock in `date` (microseconds) as it is produced, so a sink-side probe measures end-to-end
///   latency; answers `paced=N seconds=S`.
/// - `down` / `up`: take every broker down (listeners closed, connections dropped) or bring them
///   back; answers `down` / `up`.
/// The process ends when standard input closes (the parent went away) or on a signal.
struct MockCluster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-cluster",
        abstract: "Start a librdkafka mock cluster seeded with synthetic logs (testing and benchmarks).",
        shouldDisplay: false)

    @Option(help: "Topic to create.") var topic = "logs"
    @Option(help: "Partitions (the mock keeps ~4 MB each: use many for large runs).") var partitions = 96
    @Option(help: "Records to seed.") var records = 0
    @Option(help: "Brokers.") var brokers = 3

    func run() async throws {
        let cluster = try MockKafkaCluster(brokers: brokers)
        try cluster.createTopic(topic, partitions: partitions)
        print("bootstrap=\(cluster.bootstrapServers)")
        fflush(nil)
        let start = Date()
        try cluster.produce(topic: topic, count: records, partitions: partitions) { SyntheticLogs.record($0) }
        let retained = try cluster.retainedRecords(topic: topic, partitions: partitions).reduce(0, +)
        guard retained == records else {
            FileHandle.standardError.write(Data("mock cluster kept only \(retained) of \(records) records; use --partitions \(MockKafkaCluster.partitionsNeeded(records: records)) or more\n".utf8))
            throw ExitCode(1)
        }
        print("seeded=\(records) seconds=\(String(format: "%.2f", Date().timeIntervalSince(start)))")
        print("ready")
        fflush(nil)
        var produced = records
        while let line = readLine(strippingNewline: true) {
            let words = line.split(separator: " ").map(String.init)
            do {
                let answer = try execute(words, cluster: cluster, produced: &produced)
                print(answer)
            } catch {
                print("error=\(error)")
            }
            fflush(nil)
        }
    }

    private func execute(_ words: [String], cluster: MockKafkaCluster, produced: inout Int) throws -> String {
        switch words.first {
        case "topic" where words.count == 2:
            try cluster.createTopic(words[1], partitions: partitions)
            return "created \(words[1])"
        case "produce" where words.count >= 2:
            guard let count = Int(words[1]) else { return "error=bad count" }
            try cluster.produce(topic: words.count > 2 ? words[2] : topic, count: count, from: produced, partitions: partitions) {
                SyntheticLogs.record($0)
            }
            produced += count
            return "produced=\(count)"
        case "pace" where words.count == 4:
            guard let count = Int(words[2]), let rate = Double(words[3]), rate > 0 else { return "error=bad count or rate" }
            let seconds = try pace(cluster, topic: words[1], count: count, rate: rate)
            return "paced=\(count) seconds=\(String(format: "%.2f", seconds))"
        case "down", "up":
            for id in 1...Int32(brokers) {
                if words[0] == "down" { cluster.setBrokerDown(id) } else { cluster.setBrokerUp(id) }
            }
            return words[0]
        default:
            return "error=unknown command: \(words.joined(separator: " "))"
        }
    }

    /// Produces `count` records at `rate` per second in 10 ms slices on an absolute schedule (a
    /// slow flush does not stretch the run), each stamped with its production time.
    private func pace(_ cluster: MockKafkaCluster, topic: String, count: Int, rate: Double) throws -> Double {
        let tick = 0.01
        let perTick = max(1, Int(rate * tick))
        let start = Date()
        var sent = 0
        var lastMicros: Int64 = 0
        while sent < count {
            let slice = min(perTick, count - sent)
            try cluster.produce(topic: topic, count: slice, from: sent, partitions: partitions, wait: false) { index in
                // Strictly increasing, so `date` stays unique (the rsyslog peer uses it as `_id`).
                lastMicros = max(lastMicros + 1, Int64(Date().timeIntervalSince1970 * 1e6))
                return SyntheticLogs.record(index, dateMicros: lastMicros)
            }
            sent += slice
            let due = start.addingTimeInterval(Double(sent) / rate)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        try cluster.flush()
        return Date().timeIntervalSince(start)
    }
}
