import Foundation

/// Counts what arrived in file-sink outputs by (topic, partition, offset), to prove exactly-once.
public struct DeliveryAudit: Sendable, CustomStringConvertible {
    public struct Position: Hashable, Sendable {
        public var topic: String
        public var partition: Int
        public var offset: Int
    }

    public private(set) var counts: [Position: Int] = [:]
    public private(set) var lines = 0
    public private(set) var malformed = 0

    public init() {}

    /// Reads envelope-encoded NDJSON files (missing files count as empty).
    public init(files: [String]) {
        for file in files { add(file: file) }
    }

    public mutating func add(file: String) {
        guard let data = FileManager.default.contents(atPath: file) else { return }
        for line in data.split(separator: UInt8(ascii: "\n")) {
            lines += 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let topic = object["topic"] as? String, let partition = object["partition"] as? Int,
                let offset = object["offset"] as? Int
            else {
                malformed += 1
                continue
            }
            counts[Position(topic: topic, partition: partition, offset: offset), default: 0] += 1
        }
    }

    public var unique: Int { counts.count }
    public var duplicates: Int { counts.values.reduce(0) { $0 + max($1 - 1, 0) } }

    /// Positions of `expected` (partition -> offsets 0..<n) that never arrived.
    public func missing(topic: String = "logs", partitions: Int, perPartition: [Int]) -> Int {
        var missing = 0
        for p in 0..<partitions {
            for o in 0..<perPartition[p] where counts[Position(topic: topic, partition: p, offset: o)] == nil {
                missing += 1
            }
        }
        return missing
    }

    public var description: String {
        "lines=\(lines) unique=\(unique) duplicates=\(duplicates) malformed=\(malformed)"
    }

    /// How many of `count` round-robin records land in each of `partitions` partitions.
    public static func roundRobin(count: Int, partitions: Int) -> [Int] {
        (0..<partitions).map { p in count / partitions + (p < count % partitions ? 1 : 0) }
    }
}
