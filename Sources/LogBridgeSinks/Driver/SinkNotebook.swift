import LogBridgeSpool

/// Where a sink keeps its own durable bookkeeping in the spool (beside its cursor), such as Splunk
/// HEC channel ids and the acknowledgements still outstanding.
public struct SinkNotebook: Sendable {
    private let spool: Spool
    private let sink: String

    public init(spool: Spool, sink: String) {
        self.spool = spool
        self.sink = sink
    }

    public func load(_ name: String) throws(SpoolError) -> [UInt8]? {
        try spool.note(sink: sink, name: name)
    }

    /// Stores `value` durably (nil deletes the note).
    public func save(_ name: String, _ value: [UInt8]?) async throws(SpoolError) {
        try await spool.saveNote(sink: sink, name: name, value: value)
    }
}
