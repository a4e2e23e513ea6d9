import CRdKafka

/// Builds an `rd_kafka_conf_t`; ownership passes to `rd_kafka_new` on success.
public enum RDKafkaConfig {
    /// Creates a configuration with `properties` set, or throws naming the refused property
    /// (its value is not echoed: it may be a secret).
    public static func make(_ properties: [(String, String)]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw .client(code: -1, message: "out of memory", operation: "rd_kafka_conf_new")
        }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (name, value) in properties {
            let result = rd_kafka_conf_set(conf, name, value, &errorBuffer, errorBuffer.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let message = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw .invalidProperty(name: name, message: message)
            }
        }
        return conf
    }

    public static func errorMessage(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }
}

/// Owns an `rd_kafka_topic_partition_list_t` and destroys it in `deinit`.
public final class RDKafkaTopicPartitionList {
    public let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(capacity: Int = 16) {
        pointer = rd_kafka_topic_partition_list_new(Int32(capacity))
    }

    /// Copies a list librdkafka lent to a callback.
    init(copying list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        pointer = rd_kafka_topic_partition_list_copy(list)
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    func add(_ tp: TopicPartition, offset: Int64 = Int64(RD_KAFKA_OFFSET_INVALID)) {
        let element = rd_kafka_topic_partition_list_add(pointer, tp.topic, tp.partition)!
        element.pointee.offset = offset
    }

    var count: Int { Int(pointer.pointee.cnt) }

    /// Visits each element (topic, partition, offset, error).
    public func forEach(_ body: (TopicPartition, Int64, rd_kafka_resp_err_t) -> Void) {
        Self.forEach(pointer, body)
    }

    static func forEach(
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
        _ body: (TopicPartition, Int64, rd_kafka_resp_err_t) -> Void
    ) {
        for i in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[i]
            body(TopicPartition(topic: String(cString: element.topic), partition: element.partition), element.offset, element.err)
        }
    }

    static func partitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        var result: [TopicPartition] = []
        forEach(list) { tp, _, _ in result.append(tp) }
        return result
    }

    public static func make(_ partitions: some Sequence<TopicPartition>) -> RDKafkaTopicPartitionList {
        let list = RDKafkaTopicPartitionList()
        for tp in partitions { list.add(tp) }
        return list
    }
}

import LogBridgeCore
