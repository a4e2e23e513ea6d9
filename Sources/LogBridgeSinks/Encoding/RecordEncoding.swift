import LogBridgeCore

/// How file and console sinks write each record as one line, whatever its bytes.
public enum RecordEncoding: String, Sendable, CaseIterable {
    /// `{"topic":…,"partition":…,"offset":…,"timestamp":…,"key":…,"event":…}`: the record's JSON
    /// value embedded on one line, any other value as a JSON string (invalid UTF-8 replaced by
    /// U+FFFD, as in ``RecordValueReader``). Default.
    case envelope
    /// The value bytes as they are, one per line. A valid JSON value is put on one line (raw CR/LF
    /// between its tokens become spaces); any other value holding a CR or LF is written as a JSON
    /// string, so a line is always one record.
    case raw

    /// Appends one line for `record` to `out`; returns whether invalid UTF-8 was replaced. For a
    /// single record: it prepares what ``encode(_:)`` prepares once per batch.
    @discardableResult
    public func append(_ record: RecordBatch.Record, of batch: RecordBatch, to out: inout [UInt8]) -> Bool {
        var one = batch
        one.records = [record]
        var repaired = 0
        append(one, to: &out, repairedRecords: &repaired)
        return repaired > 0
    }

    /// Each topic's `{"topic":"…","partition":`, made once per batch: escaping the topic's name
    /// from its `String` for every record was ~2% of the file thread's CPU on the `/dev/null` row.
    private struct TopicHeads {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []

        init(_ topics: [String]) {
            for topic in topics {
                let start = bytes.count
                bytes.append(literal: RecordEncoding.topicPrefix)
                JSONBytes.appendString(topic, to: &bytes)
                bytes.append(literal: RecordEncoding.partitionPrefix)
                ranges.append(start..<bytes.count)
            }
        }
    }

    /// - Parameter eventTime: the envelope's `timestamp`; when the batch's event times are pending
    ///   (file and console sinks resolve them, ``FileSink/resolvesEventTime``), it reads them from
    ///   the members `reader` noted while validating the value, so the value is scanned once.
    private func append(
        _ record: RecordBatch.Record, of batch: RecordBatch, heads: TopicHeads, headBytes: UnsafeRawBufferPointer,
        reader: inout RecordValueReader, eventTime: inout EncoderEventTime, to out: inout [UInt8]
    ) {
        batch.bytes.withUnsafeBytes { bytes in
            let value = UnsafeRawBufferPointer(rebasing: bytes[record.value])
            switch self {
            case .raw:
                if !JSONBytes.containsLineBreak(value) {
                    out.append(contentsOf: value)
                } else if JSONBytes.isValid(value) {
                    JSONBytes.appendSingleLine(value, to: &out)
                } else {
                    reader.appendText(value, to: &out)
                }
            case .envelope:
                // The value is read (validated, its event time fields noted) before the members
                // ahead of it are written: `timestamp` comes from it.
                reader.read(value) { value, kind, reader in
                    let timestampMs = reader.found.withUnsafeBufferPointer { eventTime.millis(of: record, value: value, kind: kind, found: $0) }
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: headBytes[heads.ranges[record.topicIndex]]))
                    Self.appendPartitionAndOffset(record, to: &out)
                    if timestampMs >= 0 {
                        out.append(literal: Self.timestampPrefix)
                        Timestamp.appendRFC3339(millis: timestampMs, to: &out)
                        out.append(UInt8(ascii: "\""))
                    }
                    if let key = record.key {
                        out.append(literal: Self.keyPrefix)
                        JSONBytes.appendString(UnsafeRawBufferPointer(rebasing: bytes[key]), to: &out)
                    }
                    out.append(literal: Self.eventPrefix)
                    if kind == .text {
                        reader.appendText(value, to: &out)
                    } else {
                        JSONBytes.appendSingleLine(value, to: &out)
                    }
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// `partition,"offset":offset`.
    private static func appendPartitionAndOffset(_ record: RecordBatch.Record, to out: inout [UInt8]) {
        JSONBytes.appendDecimals(Int64(record.partition), record.offset, separator: offsetPrefix, to: &out)
    }

    /// Encodes a whole batch into one buffer.
    public func encode(_ batch: RecordBatch) -> [UInt8] {
        var repaired = 0
        return encode(batch, repairedRecords: &repaired)
    }

    /// Encodes a whole batch into one buffer, adding to `repairedRecords` the records whose invalid
    /// UTF-8 was replaced.
    public func encode(_ batch: RecordBatch, repairedRecords: inout Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(batch.bytes.count + batch.count * 96)
        append(batch, to: &out, repairedRecords: &repairedRecords)
        return out
    }

    /// The lines of every record of `batch`, with what they share made once: the event time
    /// fields noted and each topic's head (both only for the envelope; raw lines carry neither).
    private func append(_ batch: RecordBatch, to out: inout [UInt8], repairedRecords: inout Int) {
        var keys: [[UInt8]] = []
        var eventTime = EncoderEventTime(batch, keys: &keys)
        var reader = RecordValueReader(keys: self == .envelope ? keys : [])
        let heads = TopicHeads(self == .envelope ? batch.topics : [])
        heads.bytes.withUnsafeBytes { headBytes in
            for record in batch.records {
                append(record, of: batch, heads: heads, headBytes: headBytes, reader: &reader, eventTime: &eventTime, to: &out)
            }
        }
        repairedRecords += reader.repairedRecords
    }

    fileprivate static let topicPrefix: StaticString = #"{"topic":"#
    fileprivate static let partitionPrefix: StaticString = #","partition":"#
    private static let offsetPrefix: StaticString = #","offset":"#
    private static let timestampPrefix: StaticString = #","timestamp":""#
    private static let keyPrefix: StaticString = #","key":"#
    private static let eventPrefix: StaticString = #","event":"#
}
