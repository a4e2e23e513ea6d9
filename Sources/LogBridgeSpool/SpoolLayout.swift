import CLMDB
import LogBridgeCore

/// The databases inside the spool's LMDB environment and how keys and values are laid out
/// (docs/spool-format.md).
///
/// - `segments` (format 3): big-endian first sequence -> a segment of consecutive records
///   (``SegmentCodec``). The key is the arrival sequence, not (topic, partition, offset), so every
///   sink reads one ordered log with one cursor and appends are `MDB_APPEND`s at the right edge.
///   That a (topic, partition, offset) is stored once is guaranteed by `offsets`, written in the
///   same transaction as the records.
/// - `records` (formats 1 and 2): big-endian sequence -> one record (``RecordCodec``). A spool
///   upgraded to format 3 keeps reading the records it held here (those below `legacy_end` in
///   `meta`) until every sink has delivered them; nothing new is written here.
/// - `offsets`: `topic NUL partition(BE32)` -> next offset to spool (LE64).
/// - `cursors`: sink name -> next sequence (LE64) + the sink's opaque state.
/// - `dead_letters`: big-endian sequence -> dead letter.
/// - `meta`: format version, next sequence, record bytes spooled so far (`backlog_bytes`), topic
///   table (`topic/NAME` -> index), sinks' notes (`note/SINK/NAME`), `legacy_end` (format 3).
/// - `marks` (format 2): big-endian sequence -> record bytes spooled before it (LE64) + when it was
///   spooled (LE64 Unix ms): ``BacklogIndex``, to measure each sink's backlog without a scan.
struct SpoolDatabases {
    var records: MDB_dbi
    var offsets: MDB_dbi
    var cursors: MDB_dbi
    var deadLetters: MDB_dbi
    var meta: MDB_dbi
    var marks: MDB_dbi
    var segments: MDB_dbi

    /// "2" added `marks` and `backlog_bytes`; "3" added `segments`. An older spool is upgraded in
    /// place when opened.
    static let formatVersion = "3"
    static let upgradableVersions = ["1", "2"]
    static let count = 7

    /// The trees that hold records (what a full spool frees by trimming).
    var recordTrees: [MDB_dbi] { [records, segments] }
    var all: [MDB_dbi] { [records, offsets, cursors, deadLetters, meta, marks, segments] }
}

enum SpoolKey {
    static let format = Array("format".utf8)
    static let nextSequence = Array("next_seq".utf8)
    static let nextDeadLetter = Array("next_dlq".utf8)
    static let topicPrefix = Array("topic/".utf8)
    static let backlogBytes = Array("backlog_bytes".utf8)
    /// Format 3 upgraded from 2: sequences below this value are format-2 records in `records`.
    static let legacyEnd = Array("legacy_end".utf8)

    static func markValue(_ mark: BacklogMark) -> [UInt8] {
        var value = uint64(mark.bytesBefore)
        value.append(contentsOf: uint64(UInt64(bitPattern: mark.spooledAtMs)))
        return value
    }

    static func decodeMark(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> BacklogMark? {
        guard key.count == 8, value.count >= 16, let bytes = decodeUInt64(value),
            let time = decodeUInt64(UnsafeRawBufferPointer(rebasing: value[8...]))
        else { return nil }
        return BacklogMark(sequence: decodeSequence(key), bytesBefore: bytes, spooledAtMs: Int64(bitPattern: time))
    }

    /// `note/SINK/NAME`: a sink's own bookkeeping, outside its cursor.
    static func note(sink: String, name: String) -> [UInt8] { Array("note/\(sink)/\(name)".utf8) }

    static func sequence(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    static func decodeSequence(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        guard bytes.count == 8 else { return 0 }
        return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    static func offsetKey(_ tp: TopicPartition) -> [UInt8] {
        var key = Array(tp.topic.utf8)
        key.append(0)
        withUnsafeBytes(of: UInt32(bitPattern: tp.partition).bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    static func decodeOffsetKey(_ bytes: UnsafeRawBufferPointer) -> TopicPartition? {
        guard bytes.count >= 5, let nul = bytes.firstIndex(of: 0), nul == bytes.count - 5 else { return nil }
        let topic = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<nul]), as: UTF8.self)
        let partition = UInt32(bigEndian: UnsafeRawBufferPointer(rebasing: bytes[(nul + 1)...]).loadUnaligned(as: UInt32.self))
        return TopicPartition(topic: topic, partition: Int32(bitPattern: partition))
    }

    static func uint64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    static func decodeUInt64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 8 else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
    }
}

/// The fixed header in front of each spooled record's key and value (little-endian).
///
/// ```
/// u8 version | u8 flags (bit 0: has key, bit 2: has headers) | u16 topic index | i32 partition
/// | i64 offset | i64 timestamp ms | [u32 key length | key] | [u32 headers length | headers] | value
/// ```
///
/// The headers (a ``KafkaHeaders`` block) came with Kafka metadata in templates: a record spooled
/// before has no bit 2 and reads as a record without headers, so an existing spool needs no
/// upgrade and nothing in it changes meaning.
enum RecordCodec {
    static let version: UInt8 = 1
    static let headerSize = 24

    static func encodedSize(keyCount: Int?, valueCount: Int, headersCount: Int? = nil) -> Int {
        headerSize + (keyCount.map { 4 + $0 } ?? 0) + (headersCount.map { 4 + $0 } ?? 0) + valueCount
    }

    static func encode(
        into out: UnsafeMutableRawBufferPointer, topicIndex: UInt16, record: IngestRecord
    ) {
        var flags: UInt8 = 0
        if record.key != nil { flags |= 1 }
        if record.headers != nil { flags |= 4 }
        out.storeBytes(of: version, toByteOffset: 0, as: UInt8.self)
        out.storeBytes(of: flags, toByteOffset: 1, as: UInt8.self)
        out.storeBytes(of: topicIndex.littleEndian, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: record.partition.littleEndian, toByteOffset: 4, as: Int32.self)
        out.storeBytes(of: record.offset.littleEndian, toByteOffset: 8, as: Int64.self)
        out.storeBytes(of: record.timestampMs.littleEndian, toByteOffset: 16, as: Int64.self)
        var position = headerSize
        if let key = record.key {
            out.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: position, as: UInt32.self)
            position += 4
            if key.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: out[position..<(position + key.count)]).copyMemory(from: key)
            }
            position += key.count
        }
        if let headers = record.headers {
            out.storeBytes(of: UInt32(headers.count).littleEndian, toByteOffset: position, as: UInt32.self)
            position += 4
            if headers.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: out[position..<(position + headers.count)]).copyMemory(from: headers)
            }
            position += headers.count
        }
        if let value = record.value, value.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: out[position..<(position + value.count)]).copyMemory(from: value)
        }
    }

    /// A dead letter put back into the log for one sink only (`dlq replay`): flag bit 1, and the
    /// sink's name (u16 length + bytes) between the header and the value. Other sinks skip it.
    static func encodeReplay(
        into out: UnsafeMutableRawBufferPointer, topicIndex: UInt16, letter: DeadLetter, target: [UInt8]
    ) {
        out.storeBytes(of: version, toByteOffset: 0, as: UInt8.self)
        out.storeBytes(of: UInt8(2), toByteOffset: 1, as: UInt8.self)
        out.storeBytes(of: topicIndex.littleEndian, toByteOffset: 2, as: UInt16.self)
        out.storeBytes(of: letter.partition.littleEndian, toByteOffset: 4, as: Int32.self)
        out.storeBytes(of: letter.offset.littleEndian, toByteOffset: 8, as: Int64.self)
        out.storeBytes(of: letter.timestampMs.littleEndian, toByteOffset: 16, as: Int64.self)
        out.storeBytes(of: UInt16(target.count).littleEndian, toByteOffset: headerSize, as: UInt16.self)
        UnsafeMutableRawBufferPointer(rebasing: out[(headerSize + 2)..<(headerSize + 2 + target.count)]).copyBytes(from: target)
        let start = headerSize + 2 + target.count
        if !letter.payload.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: out[start..<(start + letter.payload.count)]).copyBytes(from: letter.payload)
        }
    }

    static func encodedReplaySize(target: [UInt8], payloadCount: Int) -> Int { headerSize + 2 + target.count + payloadCount }

    struct Decoded {
        /// Set for a replayed dead letter: the only sink that reads it.
        var target: Range<Int>?
        var topicIndex: Int
        var partition: Int32
        var offset: Int64
        var timestampMs: Int64
        var key: Range<Int>?
        var headers: Range<Int>?
        var value: Range<Int>
    }

    /// Decodes a header; ranges are relative to the start of `bytes`. `nil` when corrupt.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Decoded? {
        guard bytes.count >= headerSize, bytes[0] == version else { return nil }
        let flags = bytes[1]
        let topicIndex = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        let partition = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: Int32.self))
        let offset = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self))
        let timestamp = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        var position = headerSize
        /// A `u32 length | bytes` section, when its flag is set; nil for a truncated record.
        func section(_ flag: UInt8) -> Range<Int>?? {
            guard flags & flag != 0 else { return .some(nil) }
            guard bytes.count >= position + 4 else { return nil }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            guard bytes.count >= position + 4 + length else { return nil }
            position += 4 + length
            return .some((position - length)..<position)
        }
        guard let key = section(1), let headers = section(4) else { return nil }
        var target: Range<Int>?
        if flags & 2 != 0 {
            guard bytes.count >= position + 2 else { return nil }
            let length = Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self)))
            position += 2
            guard bytes.count >= position + length else { return nil }
            target = position..<(position + length)
            position += length
        }
        return Decoded(
            target: target, topicIndex: topicIndex, partition: partition, offset: offset, timestampMs: timestamp,
            key: key, headers: headers, value: position..<bytes.count)
    }
}
