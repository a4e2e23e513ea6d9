import CRdKafka
import Foundation
import LogBridgeCore
import LogBridgeKafka
import Synchronization

/// librdkafka's in-process mock Kafka cluster (`rdkafka_mock.h`): real TCP listeners on 127.0.0.1
/// that speak the Kafka protocol, consumer groups included, with fault injection.
///
/// Used by `logbridge demo`, the test suite and the benchmark harness. It keeps only a few MB per
/// partition (docs/environment.md): spread large data sets over many partitions.
public final class MockKafkaCluster: @unchecked Sendable {
    // `@unchecked Sendable`: the mock cluster's functions are thread-safe; the handles are
    // immutable after init.
    private let host: OpaquePointer
    private let cluster: OpaquePointer
    private let producer: OpaquePointer
    private let deliveryErrors: DeliveryErrors
    /// `127.0.0.1:port,...`, for `bootstrap.servers`.
    public let bootstrapServers: String

    /// Starts a cluster of `brokers` brokers.
    public init(brokers: Int = 3) throws(KafkaError) {
        var errorBuffer = [CChar](repeating: 0, count: 512)
        let hostConf = try RDKafkaConfig.make([("log_level", "3")])
        guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, hostConf, &errorBuffer, errorBuffer.count) else {
            throw .client(code: -1, message: "cannot create mock host", operation: "rd_kafka_new")
        }
        guard let cluster = rd_kafka_mock_cluster_new(host, Int32(brokers)) else {
            rd_kafka_destroy(host)
            throw .client(code: -1, message: "cannot create mock cluster", operation: "rd_kafka_mock_cluster_new")
        }
        self.host = host
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))

        deliveryErrors = DeliveryErrors()
        let producerConf = try RDKafkaConfig.make([
            ("bootstrap.servers", bootstrapServers),
            ("linger.ms", "20"),
            ("batch.num.messages", "10000"),
            ("batch.size", "1000000"),
            ("queue.buffering.max.messages", "500000"),
            ("queue.buffering.max.kbytes", "1048576"),
            ("log_level", "3"),
        ])
        rd_kafka_conf_set_opaque(producerConf, Unmanaged.passUnretained(deliveryErrors).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(producerConf, mockDeliveryCallback)
        guard let producer = rd_kafka_new(RD_KAFKA_PRODUCER, producerConf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_mock_cluster_destroy(cluster)
            rd_kafka_destroy(host)
            throw .client(code: -1, message: "cannot create mock producer", operation: "rd_kafka_new")
        }
        self.producer = producer
    }

    deinit {
        rd_kafka_destroy(producer)
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    /// Creates a topic with `partitions` partitions.
    public func createTopic(_ name: String, partitions: Int) throws(KafkaError) {
        let code = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), 1)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "mock topic create")
        }
    }

    /// Produces `count` records numbered from `start`, record `i` to partition `i % partitions`
    /// (round robin, so the mock keeps them all), with the value `value(i)`. Waits until every
    /// record is acknowledged, unless `wait` is false (a paced producer: each wait costs a round
    /// trip of tens of milliseconds, which would cap the rate; call `flush()` at the end).
    public func produce(
        topic: String, count: Int, from start: Int = 0, partitions: Int, key: ((Int) -> [UInt8]?)? = nil,
        wait: Bool = true, value: (Int) -> [UInt8]
    ) throws(KafkaError) {
        guard let rkt = rd_kafka_topic_new(producer, topic, nil) else {
            throw .client(code: -1, message: "cannot create topic handle", operation: "rd_kafka_topic_new")
        }
        defer { rd_kafka_topic_destroy(rkt) }
        for i in start..<start + count {
            var payload = value(i)
            let keyBytes = key?(i)
            while true {
                let result = payload.withUnsafeMutableBytes { p in
                    if var keyBytes {
                        return keyBytes.withUnsafeMutableBytes { k in
                            rd_kafka_produce(rkt, Int32(i % partitions), RD_KAFKA_MSG_F_COPY, p.baseAddress, p.count, k.baseAddress, k.count, nil)
                        }
                    }
                    return rd_kafka_produce(rkt, Int32(i % partitions), RD_KAFKA_MSG_F_COPY, p.baseAddress, p.count, nil, 0, nil)
                }
                if result == 0 { break }
                let code = rd_kafka_last_error()
                guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                    throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "produce")
                }
                rd_kafka_poll(producer, 50)
            }
            if i % 10_000 == 0 { rd_kafka_poll(producer, 0) }
        }
        if wait {
            try flush()
        } else {
            rd_kafka_poll(producer, 0)
        }
    }

    /// Produces one record with headers (name, value; nil for a null value) and an optional key,
    /// as a producer that sets Kafka headers would; call `flush()` after the last.
    public func produce(
        topic: String, partition: Int32, key: [UInt8]? = nil, value: [UInt8], headers: [(String, [UInt8]?)]
    ) throws(KafkaError) {
        guard let list = rd_kafka_headers_new(headers.count) else {
            throw .client(code: -1, message: "cannot create headers", operation: "rd_kafka_headers_new")
        }
        for (name, bytes) in headers {
            if let bytes {
                _ = bytes.withUnsafeBytes { rd_kafka_header_add(list, name, -1, $0.baseAddress, $0.count) }
            } else {
                _ = rd_kafka_header_add(list, name, -1, nil, 0)
            }
        }
        var payload = value
        var keyBytes = key ?? []
        let code: rd_kafka_resp_err_t = topic.withCString { topicName in
            payload.withUnsafeMutableBytes { p in
                keyBytes.withUnsafeMutableBytes { k in
                    var vus = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    vus[0].u.cstr = topicName
                    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    vus[1].u.i32 = partition
                    vus[2].vtype = RD_KAFKA_VTYPE_VALUE
                    vus[2].u.mem.ptr = p.baseAddress
                    vus[2].u.mem.size = p.count
                    vus[3].vtype = RD_KAFKA_VTYPE_HEADERS
                    vus[3].u.headers = list
                    vus[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    vus[4].u.i = RD_KAFKA_MSG_F_COPY
                    var count = 5
                    if key != nil {
                        vus[5].vtype = RD_KAFKA_VTYPE_KEY
                        vus[5].u.mem.ptr = k.baseAddress
                        vus[5].u.mem.size = k.count
                        count = 6
                    }
                    guard let error = rd_kafka_produceva(producer, vus, count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                    defer { rd_kafka_error_destroy(error) }
                    return rd_kafka_error_code(error)
                }
            }
        }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            // On failure the headers stay ours.
            rd_kafka_headers_destroy(list)
            throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "produce")
        }
        rd_kafka_poll(producer, 0)
    }

    /// Waits until every record produced so far is acknowledged; throws the first delivery error.
    public func flush() throws(KafkaError) {
        let code = rd_kafka_flush(producer, 120_000)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "flush")
        }
        if let failure = deliveryErrors.take() {
            throw .client(code: -1, message: failure, operation: "produce delivery")
        }
    }

    /// How many records each partition of `topic` still holds (high minus low watermark). The mock
    /// silently drops old message sets beyond a few MB per partition; this is how to notice.
    public func retainedRecords(topic: String, partitions: Int) throws(KafkaError) -> [Int] {
        var counts: [Int] = []
        for partition in 0..<Int32(partitions) {
            var low: Int64 = 0
            var high: Int64 = 0
            let code = rd_kafka_query_watermark_offsets(producer, topic, partition, &low, &high, 10_000)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "query watermarks")
            }
            counts.append(Int(high - low))
        }
        return counts
    }

    /// Partitions needed to hold `records` records of about `recordBytes` bytes in the mock, which
    /// keeps only a few MB per partition (3 MB is used here, with margin).
    public static func partitionsNeeded(records: Int, recordBytes: Int = 340) -> Int {
        max(1, (records * recordBytes + (3 << 20) - 1) / (3 << 20))
    }

    /// Takes broker `id` (1-based) down: its listener closes and connections drop.
    public func setBrokerDown(_ id: Int32) { _ = rd_kafka_mock_broker_set_down(cluster, id) }

    public func setBrokerUp(_ id: Int32) { _ = rd_kafka_mock_broker_set_up(cluster, id) }

    /// Adds round-trip latency to broker `id`.
    public func setBrokerRTT(_ id: Int32, milliseconds: Int32) { _ = rd_kafka_mock_broker_set_rtt(cluster, id, milliseconds) }

    /// The offsets consumer group `group` has committed for partitions `0..<partitions` of
    /// `topic` (-1 where none), read by a client that does not join the group.
    public func committedOffsets(group: String, topic: String, partitions: Int) throws(KafkaError) -> [Int64] {
        let conf = try RDKafkaConfig.make([("bootstrap.servers", bootstrapServers), ("group.id", group), ("log_level", "3")])
        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard let consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw .client(code: -1, message: "cannot create offset reader", operation: "rd_kafka_new")
        }
        defer { rd_kafka_destroy(consumer) }
        let list = RDKafkaTopicPartitionList.make((0..<Int32(partitions)).map { TopicPartition(topic: topic, partition: $0) })
        let code = rd_kafka_committed(consumer, list.pointer, 10_000)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw .client(code: code.rawValue, message: RDKafkaConfig.errorMessage(code), operation: "committed")
        }
        var offsets = [Int64](repeating: -1, count: partitions)
        list.forEach { tp, offset, err in if err == RD_KAFKA_RESP_ERR_NO_ERROR { offsets[Int(tp.partition)] = offset } }
        return offsets
    }

    /// Makes the next `count` OffsetCommit requests fail with REBALANCE_IN_PROGRESS, as a
    /// coordinator refusing commits during a rebalance does.
    public func refuseOffsetCommits(count: Int) {
        let errors = [rd_kafka_resp_err_t](repeating: RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, count: count)
        // ApiKey 8: OffsetCommit.
        errors.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster, 8, count, $0.baseAddress) }
    }

    /// Moves the group coordinator of `group` to broker `id`.
    public func setCoordinator(group: String, broker id: Int32) {
        _ = rd_kafka_mock_coordinator_set(cluster, "group", group, id)
    }
}

/// Delivery failures reported by the mock producer.
private final class DeliveryErrors: Sendable {
    private let first = Mutex<String?>(nil)
    func record(_ message: String) { first.withLock { if $0 == nil { $0 = message } } }
    func take() -> String? { first.withLock { value in defer { value = nil }; return value } }
}

private let mockDeliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    _, message, opaque in
    guard let message, let opaque, message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
    Unmanaged<DeliveryErrors>.fromOpaque(opaque).takeUnretainedValue().record(RDKafkaConfig.errorMessage(message.pointee.err))
}

extension KafkaSource {
    /// librdkafka's version, e.g. `2.0.2`.
    public static var librdkafkaVersion: String { String(cString: rd_kafka_version_str()) }
}
