/// Where a sink keeps its own durable bookkeeping beside its cursor, such as Splunk HEC channel
/// ids and the acknowledgements still outstanding.
///
/// Sinks do not know the store: the delivery module backs a notebook with the spool
/// (`SinkNotebook(spool:sink:)`), tests with whatever they like.
public struct SinkNotebook: Sendable {
    private let read: @Sendable (String) throws -> [UInt8]?
    private let write: @Sendable (String, [UInt8]?) async throws -> Void

    /// - Parameters:
    ///   - load: the note stored under a name, or nil.
    ///   - save: stores a note durably (nil deletes it).
    public init(
        load: @escaping @Sendable (String) throws -> [UInt8]?,
        save: @escaping @Sendable (String, [UInt8]?) async throws -> Void
    ) {
        read = load
        write = save
    }

    public func load(_ name: String) throws(SinkNotebookError) -> [UInt8]? {
        do { return try read(name) } catch { throw SinkNotebookError(note: name, underlying: "\(error)") }
    }

    /// Stores `value` durably (nil deletes the note).
    public func save(_ name: String, _ value: [UInt8]?) async throws(SinkNotebookError) {
        do { try await write(name, value) } catch { throw SinkNotebookError(note: name, underlying: "\(error)") }
    }
}

/// A note could not be read or stored.
public struct SinkNotebookError: Error, CustomStringConvertible, Sendable {
    public var note: String
    public var underlying: String
    public var description: String { "note \(note): \(underlying)" }
}
