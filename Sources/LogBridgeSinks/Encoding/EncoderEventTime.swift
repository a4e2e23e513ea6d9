import LogBridgeCore

/// Each record's event time as an encoder (Elasticsearch, Splunk HEC, Loki) writes it: the batch's
/// `timestampMs`, or, when the batch's times are pending (``RecordBatch/pendingEventTime``), the
/// time found in the members the encoder noted in its pass over the record (``RecordValueReader``
/// while validating it; Loki's label scan). The event time fields are added to the keys noted, so
/// one pass over each record finds its template fields and its time (a scan of its own on the
/// reader thread was ~5% of the forwarder's CPU, docs/cpu-profile.md).
///
/// The answer is the one `EventTimeResolver.stamp` would have given: the first configured field
/// that holds a time, else the Kafka timestamp. A value that is not a valid object is scanned
/// leniently as before (a record cut short can still have its leading `@timestamp`).
struct EncoderEventTime {
    /// Where the event time fields sit in the keys noted; nil when the batch's times are final.
    private let slots: Range<Int>?
    private var resolver: EventTimeResolver?

    /// Appends the batch's pending event time fields (if any) to `keys`, the ones the encoder notes.
    init(_ batch: RecordBatch, keys: inout [[UInt8]]) {
        guard let fields = batch.pendingEventTime else {
            slots = nil
            resolver = nil
            return
        }
        slots = keys.count..<(keys.count + fields.keys.count)
        keys += fields.keys
        resolver = fields.makeResolver()
    }

    /// The event time of `record`, whose value (`value`, as the reader handed it) was read as
    /// `kind` with its noted members in `found`.
    mutating func millis(
        of record: RecordBatch.Record, value: UnsafeRawBufferPointer, kind: RecordValueReader.Kind, found: UnsafeBufferPointer<Range<Int>?>
    ) -> Int64 {
        millis(of: record, value: value, noted: kind == .object, found: found)
    }

    /// The event time of `record`: `noted` says that `found` holds the value's top-level members
    /// (a valid object, or a complete `JSONBytes.noteTopLevelMembers` scan); otherwise the value
    /// is scanned on its own, leniently.
    mutating func millis(
        of record: RecordBatch.Record, value: UnsafeRawBufferPointer, noted: Bool, found: UnsafeBufferPointer<Range<Int>?>
    ) -> Int64 {
        guard let slots else { return record.timestampMs }
        let nanos = noted
            ? EventTimeResolver.time(in: value, found: UnsafeBufferPointer(rebasing: found[slots]))
            : resolver?.resolve(value)
        return nanos.map(EventTimeResolver.millis) ?? record.timestampMs
    }
}
