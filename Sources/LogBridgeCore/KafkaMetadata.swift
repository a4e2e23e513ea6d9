/// A Kafka property of a record, readable wherever a record field is: sink templates
/// (`{%kafka.topic}`), pipeline conditions (`field: "%kafka.topic"`), `set` templates and metrics
/// labels.
///
/// Why a `%` sigil: a field path is any run of bytes between dots, so no name chosen for the
/// metadata could be told apart from a record field of that name. An unquoted path starting with
/// `%` is metadata and only metadata (the convention of Vector's `%` metadata paths); a record
/// field whose name starts with `%` is written quoted (`"%odd".x`). The names:
///
/// | name | value |
/// |---|---|
/// | `%kafka.topic` | the topic (event hub) |
/// | `%kafka.partition` | the partition number |
/// | `%kafka.offset` | the offset in the partition |
/// | `%kafka.key` | the message key as text (missing when the message has none) |
/// | `%kafka.timestamp` | the Kafka message timestamp, epoch milliseconds |
/// | `%kafka.headers.NAME` | the value of header NAME (the first one, if repeated) |
public enum KafkaMetadataField: Sendable, Hashable, CustomStringConvertible {
    case topic, partition, offset, key, timestamp
    case header([UInt8])

    /// The names offered, for error messages.
    public static let names = "%kafka.topic, %kafka.partition, %kafka.offset, %kafka.key, %kafka.timestamp, %kafka.headers.NAME"

    /// Reads a metadata name (with its `%`). nil when `text` does not start with `%` (a record
    /// field); throws for a `%` name that is not metadata.
    public static func parse(_ text: String) throws(MetadataNameError) -> KafkaMetadataField? {
        guard text.hasPrefix("%") else { return nil }
        switch text {
        case "%kafka.topic": return .topic
        case "%kafka.partition": return .partition
        case "%kafka.offset": return .offset
        case "%kafka.key": return .key
        case "%kafka.timestamp": return .timestamp
        default:
            let prefix = "%kafka.headers."
            if text.hasPrefix(prefix), text.utf8.count > prefix.utf8.count {
                return .header(Array(text.utf8.dropFirst(prefix.utf8.count)))
            }
            throw MetadataNameError(
                message: "unknown Kafka metadata '\(text)' (known: \(names); a record field whose name starts with % is written quoted: \"\(text.dropFirst())\")")
        }
    }

    public var description: String {
        switch self {
        case .topic: return "%kafka.topic"
        case .partition: return "%kafka.partition"
        case .offset: return "%kafka.offset"
        case .key: return "%kafka.key"
        case .timestamp: return "%kafka.timestamp"
        case .header(let name): return "%kafka.headers." + String(decoding: name, as: UTF8.self)
        }
    }
}

public struct MetadataNameError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// One record's Kafka metadata, borrowed from the batch that holds it (valid inside the closure
/// that made it, like the record's value bytes).
public struct KafkaRecordMetadata {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    public var key: UnsafeRawBufferPointer?
    /// A ``KafkaHeaders`` block.
    public var headers: UnsafeRawBufferPointer?

    public init(
        topic: String, partition: Int32, offset: Int64, timestampMs: Int64, key: UnsafeRawBufferPointer?, headers: UnsafeRawBufferPointer?
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.key = key
        self.headers = headers
    }

    /// The metadata of `record`, whose bytes are in `bytes` (the batch's, from `withUnsafeBytes`).
    public init(_ record: RecordBatch.Record, of batch: RecordBatch, bytes: UnsafeRawBufferPointer) {
        self.init(
            topic: batch.topics[record.topicIndex], partition: record.partition, offset: record.offset,
            timestampMs: record.kafkaTimestampMs, key: record.key.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) },
            headers: record.headers.map { UnsafeRawBufferPointer(rebasing: bytes[$0]) })
    }

    /// Appends the field's text; returns false (appending nothing) when the record has no such
    /// value (no key, no such header, no timestamp).
    @discardableResult
    public func append(_ field: KafkaMetadataField, to out: inout [UInt8]) -> Bool {
        switch field {
        case .topic: out.append(contentsOf: topic.utf8)
        case .partition: appendDecimal(Int64(partition), to: &out)
        case .offset: appendDecimal(offset, to: &out)
        case .timestamp:
            guard timestampMs >= 0 else { return false }
            appendDecimal(timestampMs, to: &out)
        case .key:
            guard let key else { return false }
            out.append(contentsOf: key)
        case .header(let name):
            guard let headers, let value = KafkaHeaders.value(named: name, in: headers) else { return false }
            out.append(contentsOf: value)
        }
        return true
    }

    /// Whether the record has a non-empty value for `field`.
    public func has(_ field: KafkaMetadataField) -> Bool {
        var text: [UInt8] = []
        return append(field, to: &text) && !text.isEmpty
    }

    private func appendDecimal(_ value: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }
}
