import CLMDB
import LogBridgeCore

/// A record that could not be spooled or delivered, kept with the reason instead of being dropped.
public struct DeadLetter: Sendable, Equatable {
    /// `source` for records refused on the way in (oversize), otherwise the sink's name.
    public var stage: String
    /// Why the record was set aside, in words an operator can act on.
    public var reason: String
    /// Protocol status where there is one (HTTP status, HEC code), or empty.
    public var status: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    /// When it was dead-lettered, in milliseconds since the epoch.
    public var deadLetteredAtMs: Int64
    public var payload: [UInt8]

    public init(
        stage: String, reason: String, status: String = "", topic: String, partition: Int32, offset: Int64,
        timestampMs: Int64, deadLetteredAtMs: Int64, payload: [UInt8]
    ) {
        self.stage = stage
        self.reason = reason
        self.status = status
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.deadLetteredAtMs = deadLetteredAtMs
        self.payload = payload
    }

    static let version: UInt8 = 1

    /// Dead letters in store order, optionally only those of one stage.
    static func scan(
        _ txn: borrowing LMDBTransaction, _ dbi: MDB_dbi, stage: String?, limit: Int
    ) throws(SpoolError) -> [DeadLetter] {
        var result: [DeadLetter] = []
        try txn.scan(dbi, from: nil) { (_, value) throws(SpoolError) -> Bool in
            if let letter = DeadLetter(decoding: value), stage == nil || letter.stage == stage { result.append(letter) }
            return result.count < limit
        }
        return result
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = [Self.version]
        for text in [stage, reason, status, topic] {
            let bytes = Array(text.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        withUnsafeBytes(of: partition.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: offset.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: timestampMs.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: deadLetteredAtMs.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: payload)
        return out
    }

    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.first == Self.version else { return nil }
        var position = 1
        var texts: [String] = []
        for _ in 0..<4 {
            guard position + 4 <= bytes.count else { return nil }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            position += 4
            guard position + length <= bytes.count else { return nil }
            texts.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)]), as: UTF8.self))
            position += length
        }
        guard position + 28 <= bytes.count else { return nil }
        stage = texts[0]
        reason = texts[1]
        status = texts[2]
        topic = texts[3]
        partition = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self))
        offset = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 4, as: Int64.self))
        timestampMs = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 12, as: Int64.self))
        deadLetteredAtMs = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 20, as: Int64.self))
        payload = Array(UnsafeRawBufferPointer(rebasing: bytes[(position + 28)...]))
    }
}
