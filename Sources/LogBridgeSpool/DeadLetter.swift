import CLMDB
import LogBridgeCore

/// A record that could not be spooled or delivered, kept with the reason instead of being dropped.
public struct DeadLetter: Sendable, Equatable {
    /// `source` for records refused on the way in (oversize), otherwise the sink's name.
    public var stage: String
    /// Why the record was set aside, in words an operator can act on. Stored capped at
    /// ``maxReasonBytes``.
    public var reason: String
    /// Protocol status where there is one (HTTP status, HEC code), or empty. Stored capped at
    /// ``maxStatusBytes``.
    public var status: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    /// When it was dead-lettered, in milliseconds since the epoch.
    public var deadLetteredAtMs: Int64
    /// The record's value, or only its first bytes when it was larger than the spool keeps
    /// (see ``isTruncated``).
    public var payload: [UInt8]
    /// The size of the record's value before it was cut; `payload.count` when it is whole.
    public var originalSize: Int

    public init(
        stage: String, reason: String, status: String = "", topic: String, partition: Int32, offset: Int64,
        timestampMs: Int64, deadLetteredAtMs: Int64, payload: [UInt8], originalSize: Int? = nil
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
        self.originalSize = max(originalSize ?? payload.count, payload.count)
    }

    /// Whether `payload` is only a prefix of the record: such a letter is evidence to read, not a
    /// record to send again (`dlq replay` keeps it in the store).
    public var isTruncated: Bool { originalSize > payload.count }

    /// A sink may answer with a whole error page or a stack trace as the reason; the store keeps
    /// its first 4 KiB, enough to act on.
    public static let maxReasonBytes = 4096
    public static let maxStatusBytes = 256

    /// The letter as the store keeps it: the payload cut to `maxPayloadBytes` (the original size
    /// remembered), the reason and status cut between Unicode scalars, with a marker.
    public func capped(maxPayloadBytes: Int) -> DeadLetter {
        var letter = self
        // `payload` is a `var`: a caller may have replaced it after `init`.
        letter.originalSize = max(originalSize, payload.count)
        if payload.count > maxPayloadBytes {
            letter.payload = Array(payload.prefix(max(0, maxPayloadBytes)))
        }
        letter.reason = Self.cut(reason, to: Self.maxReasonBytes)
        letter.status = Self.cut(status, to: Self.maxStatusBytes)
        return letter
    }

    /// `text` in at most `limit` bytes of UTF-8: whole Unicode scalars, then ` […]` when something was cut.
    static func cut(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let marker = " […]"
        let budget = max(0, limit - marker.utf8.count)
        var kept = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            used += UTF8.width(scalar)
            if used > budget { break }
            kept.append(scalar)
        }
        return String(kept) + marker
    }

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
        stage = texts[0]
        reason = texts[1]
        status = texts[2]
        topic = texts[3]
        partition = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: Int32.self))
        offset = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 4, as: Int64.self))
        timestampMs = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 12, as: Int64.self))
        deadLetteredAtMs = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 20, as: Int64.self))
        payload = Array(UnsafeRawBufferPointer(rebasing: bytes[(position + fixed)...]))
        if version == Self.truncatedVersion {
            let stored = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 28, as: UInt64.self))
            originalSize = max(payload.count, Int(clamping: stored))
        } else {
            originalSize = payload.count
        }
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
