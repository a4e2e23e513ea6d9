/// Errors raised by the Kafka source.
public enum KafkaError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A librdkafka call failed; `code` is librdkafka's error code.
    case client(code: Int32, message: String, operation: String)
    /// A configuration property was refused by librdkafka.
    case invalidProperty(name: String, message: String)
    /// The Event Hubs connection string cannot be used. The message never contains the key.
    case invalidConnectionString(reason: String)
    /// A fatal consumer error (for example the group coordinator fenced this member for good).
    case fatal(message: String)

    public var description: String {
        switch self {
        case .client(_, let message, let operation):
            return "kafka: \(operation) failed: \(message)"
        case .invalidProperty(let name, let message):
            return "kafka: property \(name) refused: \(message)"
        case .invalidConnectionString(let reason):
            return "kafka: invalid Event Hubs connection string: \(reason)"
        case .fatal(let message):
            return "kafka: fatal consumer error: \(message)"
        }
    }

    /// Whether retrying later may succeed (broker and network trouble) rather than needing a fix.
    public var isRetriable: Bool {
        if case .client = self { return true }
        return false
    }
}
