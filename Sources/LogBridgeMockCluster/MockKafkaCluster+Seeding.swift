import LogBridgeKafka
/// Seeding the mock cluster with synthetic Fluent Bit records (tests, the bench, the demo).
extension MockKafkaCluster {
    /// A cluster with a `logs` topic pre-loaded with `records` synthetic records, round robin.
    public static func seeded(records: Int, partitions: Int, topic: String = "logs", brokers: Int = 3) throws -> MockKafkaCluster {
        let cluster = try MockKafkaCluster(brokers: brokers)
        try cluster.createTopic(topic, partitions: partitions)
        if records > 0 { try cluster.seed(records: records, from: 0, partitions: partitions, topic: topic) }
        return cluster
    }

    /// Produces records `from..<from+records` (round robin from partition `from % partitions`).
    public func seed(records: Int, from: Int, partitions: Int, topic: String = "logs") throws {
        try produce(topic: topic, count: records, partitions: partitions) { SyntheticLogs.record(from + $0) }
    }
}
