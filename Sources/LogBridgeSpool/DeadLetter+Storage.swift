import CLMDB
import LogBridgeCore

/// How the spool stores a ``DeadLetter``: a version byte, four length-prefixed texts, the
/// record's coordinates, then the payload.
extension DeadLetter {
    /// Version 1 is a whole letter; version 2 adds the original size of a payload that was cut.
    /// A whole letter is still written as version 1, so a gateway rolled back to a release
    /// without caps reads and replays it as before; it skips version 2 letters (unknown to it),
    /// which is the safe choice: it would otherwise send the prefix as if it were the record.
    static let version: UInt8 = 1
    static let truncatedVersion: UInt8 = 2

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
        var out: [UInt8] = [isTruncated ? Self.truncatedVersion : Self.version]
        for text in [stage, reason, status, topic] {
            let bytes = Array(text.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        withUnsafeBytes(of: partition.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: offset.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: timestampMs.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: deadLetteredAtMs.littleEndian) { out.append(contentsOf: $0) }
        if isTruncated { withUnsafeBytes(of: UInt64(originalSize).littleEndian) { out.append(contentsOf: $0) } }
        out.append(contentsOf: payload)
        return out
    }

    init?(decoding bytes: UnsafeRawBufferPointer) {
        guard let version = bytes.first, version == Self.version || version == Self.truncatedVersion else { return nil }
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
        let fixed = version == Self.truncatedVersion ? 36 : 28
        guard position + fixed <= bytes.count else { return nil }
        let payload = Array(UnsafeRawBufferPointer(rebasing: bytes[(position + fixed)...]))
        var originalSize = payload.count
        if version == Self.truncatedVersion {
            let stored = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 28, as: UInt64.self))
            originalSize = max(payload.count, Int(clamping: stored))
        }
        self.init(
            stage: texts[0], reason: texts[1], status: texts[2], topic: texts[3],
            partition: Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self)),
            offset: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 4, as: Int64.self)),
            timestampMs: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 12, as: Int64.self)),
            deadLetteredAtMs: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 20, as: Int64.self)),
            payload: payload, originalSize: originalSize)
    }
}

/// What `dlq replay` or `dlq purge` did.
public struct DeadLetterMaintenance: Sendable, Equatable {
    /// Letters replayed (put back into the log) or purged.
    public var handled: Int
    /// Letters a replay left in the store because their payload was truncated.
    public var keptTruncated: Int

    public init(handled: Int, keptTruncated: Int = 0) {
        self.handled = handled
        self.keptTruncated = keptTruncated
    }
}
