import LogBridgeCore

/// A dotted path to a field of an event: `kubernetes.namespace_name`, `log_processed.user.email`.
///
/// A key containing a dot is written in double quotes: `labels."app.kubernetes.io/name"`. Keys
/// are kept as UTF-8 bytes, compared with the event's keys without building strings.
///
/// An unquoted path starting with `%` names the record's Kafka metadata (`%kafka.topic`,
/// ``KafkaMetadataField``), readable where fields are read (conditions, `set` templates,
/// `metrics` labels) and never written.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public let components: [[UInt8]]
    public let description: String
    /// Set for a `%kafka.…` path; `components` then hold the name as one literal key, which no
    /// lookup of the event's fields is asked for.
    public let metadata: KafkaMetadataField?

    /// - Throws: ``PipelineError`` naming the path when it is empty or badly quoted, or an unknown
    ///   `%` metadata name.
    public init(_ text: String) throws(PipelineError) {
        do {
            metadata = try KafkaMetadataField.parse(text)
        } catch {
            throw PipelineError(error.message)
        }
        if metadata != nil {
            components = [Array(text.utf8)]
            description = text
            return
        }
        var components: [[UInt8]] = []
        var current: [UInt8] = []
        var quoted = false
        var justClosedQuote = false
        for byte in text.utf8 {
            if quoted {
                if byte == UInt8(ascii: "\"") { quoted = false; justClosedQuote = true } else { current.append(byte) }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                guard current.isEmpty else { throw PipelineError("a quote may only start a key in field path '\(text)'") }
                quoted = true
            case UInt8(ascii: "."):
                guard !current.isEmpty || justClosedQuote else { throw PipelineError("empty key in field path '\(text)'") }
                components.append(current)
                current = []
                justClosedQuote = false
            default:
                guard !justClosedQuote else { throw PipelineError("expected '.' after a quoted key in field path '\(text)'") }
                current.append(byte)
            }
        }
        guard !quoted else { throw PipelineError("unterminated quote in field path '\(text)'") }
        guard !current.isEmpty || justClosedQuote else { throw PipelineError("empty key in field path '\(text)'") }
        components.append(current)
        self.components = components
        self.description = text
    }

    /// The root itself (merge targets); never parsed from text.
    public static let root = FieldPath(components: [], description: ".")

    private init(components: [[UInt8]], description: String) {
        self.components = components
        self.description = description
        metadata = nil
    }

    public var isRoot: Bool { components.isEmpty }
    public var isMetadata: Bool { metadata != nil }

    init(validated components: [[UInt8]]) {
        metadata = nil
        self.components = components
        self.description = components.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }
}

/// A pipeline configuration or construction error; the message says what to change.
public struct PipelineError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
