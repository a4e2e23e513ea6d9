import LogBridgeSinks
import LogBridgeSpool

extension SinkNotebook {
    /// A notebook kept in the spool beside the sink's cursor.
    public init(spool: Spool, sink: String) {
        self.init(
            load: { name in try spool.note(sink: sink, name: name) },
            save: { name, value in try await spool.saveNote(sink: sink, name: name, value: value) })
    }
}
