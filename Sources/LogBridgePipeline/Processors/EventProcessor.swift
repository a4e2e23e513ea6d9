/// One step of a pipeline, applied to each event in turn.
///
/// Processors are classes compiled once from their configuration (patterns compiled, paths
/// split) and own their scratch buffers, so a pipeline instance belongs to one thread at a time;
/// each sink runner builds its own.
protocol EventProcessor: AnyObject {
    func process(_ event: Event, _ context: ProcessingContext)
}

/// What a processor may need besides the event.
final class ProcessingContext {
    /// Whether counters (redactions, `metrics`) should count this event: false when the event is
    /// processed again after a retry, so counts stay true to the data.
    var counting = true
    /// Scratch bytes any processor may use between its own calls (not across them).
    var scratch: [UInt8] = []
    var scratch2: [UInt8] = []
}

extension Event {
    /// The field processors set when they could not do their work; the event goes on unchanged
    /// otherwise, so nothing is lost to a malformed line.
    static let errorField = try! FieldPath("pipeline_error")

    /// Marks the event with the first processing failure.
    func markFailure(_ message: String) {
        guard failure == nil else { return }
        failure = message
        guard lookup(Self.errorField) == nil else { return }
        var text = message
        text.withUTF8 { set(Self.errorField, .string(UnsafeRawBufferPointer($0))) }
    }

    /// Stores one parsed `key=value` pair (logfmt, kv); a bare key reads as `true`.
    func setPair(of target: Int32, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?) {
        guard !key.isEmpty else { return }
        if let value {
            setMember(of: target, key: key, string: value)
        } else {
            store(.bool(true), in: makeChild(of: target, key: key))
        }
    }

    /// Sets the member `key` of the object at `target` (the root for the root path) to a string.
    func setMember(of target: Int32, key: UnsafeRawBufferPointer, string value: UnsafeRawBufferPointer) {
        store(.string(value), in: makeChild(of: target, key: key))
    }
}
