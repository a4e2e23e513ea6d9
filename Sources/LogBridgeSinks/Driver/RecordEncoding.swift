import LogBridgeCore

/// How file and console sinks write each record as one line.
public enum RecordEncoding: String, Sendable, CaseIterable {
    /// `{"topic":…,"partition":…,"offset":…,"timestamp":…,"key":…,"event":…}`: the record's JSON
    /// value embedded as is, any other value as a JSON string. Default.
    case envelope
    /// The value bytes as they are, one per line.
    case raw

    /// Appends one line for `record` to `out`.
    public func append(_ record: RecordBatch.Record, of batch: RecordBatch, to out: inout [UInt8]) {
        batch.bytes.withUnsafeBytes { bytes in
            let value = UnsafeRawBufferPointer(rebasing: bytes[record.value])
            switch self {
            case .raw:
                out.append(contentsOf: value)
            case .envelope:
                out.append(contentsOf: Self.topicPrefix)
                JSONBytes.appendString(batch.topics[record.topicIndex], to: &out)
                out.append(contentsOf: Self.partitionPrefix)
                JSONBytes.appendInteger(Int64(record.partition), to: &out)
                out.append(contentsOf: Self.offsetPrefix)
                JSONBytes.appendInteger(record.offset, to: &out)
                if record.timestampMs >= 0 {
                    out.append(contentsOf: Self.timestampPrefix)
                    Timestamp.appendRFC3339(millis: record.timestampMs, to: &out)
                    out.append(UInt8(ascii: "\""))
                }
                if let key = record.key {
                    out.append(contentsOf: Self.keyPrefix)
                    JSONBytes.appendString(UnsafeRawBufferPointer(rebasing: bytes[key]), to: &out)
                }
                out.append(contentsOf: Self.eventPrefix)
                if JSONBytes.isValid(value) {
                    out.append(contentsOf: value)
                } else {
                    JSONBytes.appendString(value, to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// Encodes a whole batch into one buffer.
    public func encode(_ batch: RecordBatch) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(batch.bytes.count + batch.count * 96)
        for record in batch.records { append(record, of: batch, to: &out) }
        return out
    }

    private static let topicPrefix = Array(#"{"topic":"#.utf8)
    private static let partitionPrefix = Array(#","partition":"#.utf8)
    private static let offsetPrefix = Array(#","offset":"#.utf8)
    private static let timestampPrefix = Array(#","timestamp":""#.utf8)
    private static let keyPrefix = Array(#","key":"#.utf8)
    private static let eventPrefix = Array(#","event":"#.utf8)
}
