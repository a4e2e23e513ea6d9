/// A dotted path to a field of an event: `kubernetes.namespace_name`, `log_processed.user.email`.
///
/// A key containing a dot is written in double quotes: `labels."app.kubernetes.io/name"`. Keys
/// are kept as UTF-8 bytes, compared with the event's keys without building strings.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public let components: [[UInt8]]
    public let description: String

    /// - Throws: ``PipelineError`` naming the path when it is empty or badly quoted.
    public init(_ text: String) throws(PipelineError) {
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
    }

    public var isRoot: Bool { components.isEmpty }

    init(validated components: [[UInt8]]) {
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
