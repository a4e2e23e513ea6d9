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
    public static func cut(_ text: String, to limit: Int) -> String {
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
}
