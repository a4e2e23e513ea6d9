/// Where each record's event time comes from when no processor sets it: the first of these
/// top-level fields that holds a time, else the Kafka message timestamp
/// (`source.event_time_fields`; the `timestamp` and `cri` processors still override it).
///
/// What producers write, and what is read here (docs/event-time.md):
/// - Fluent Bit's kafka output: `@timestamp` as epoch seconds with a fraction
///   (`Timestamp_Format double`, its default: `1763632800.123456`), or an RFC 3339 string
///   (`iso8601`, `iso8601_ns`);
/// - CRI/containerd lines: `time` in RFC 3339 with nanoseconds;
/// - others: RFC 3339 with an offset, epoch milliseconds, microseconds or nanoseconds.
///
/// A number (or a string of digits) is read by its magnitude: up to 11 integer digits are
/// seconds, up to 14 milliseconds, up to 17 microseconds, more nanoseconds. A number that lands
/// outside 1990-2200 is not taken for a time (a counter named `ts`), nor is a string that is
/// neither RFC 3339 nor a number: the next field is tried.
public struct EventTimeFields: Sendable, Equatable {
    /// The default order: Fluent Bit's `Timestamp_Key`, CRI's `time`, then common names.
    public static let defaultNames = ["@timestamp", "time", "timestamp", "ts"]
    public static let `default` = EventTimeFields(defaultNames)
    /// The names as configured; empty: the Kafka timestamp alone.
    public let names: [String]
    /// The names as UTF-8 bytes, for encoders that note them in a pass of their own
    /// (``EventTimeResolver/time(in:found:)``).
    public let keys: [[UInt8]]

    public init(_ names: [String]) {
        self.names = names
        keys = names.map { Array($0.utf8) }
    }

    /// A scanner with its own scratch, for one thread.
    public func makeResolver() -> EventTimeResolver { EventTimeResolver(keys: keys) }
}

/// Finds one record's event time (``EventTimeFields``) in one scan of its top-level members.
public struct EventTimeResolver {
    let keys: [[UInt8]]
    private var found: [Range<Int>?]

    init(keys: [[UInt8]]) {
        self.keys = keys
        found = Array(repeating: nil, count: keys.count)
    }

    /// The event time of a record's value in nanoseconds since the epoch, or nil when none of the
    /// fields holds one (not an object, fields missing or unreadable).
    public mutating func resolve(_ value: UnsafeRawBufferPointer) -> Int64? { resolveField(value)?.nanos }

    /// ``resolve(_:)`` and the index (in ``EventTimeFields/names``) of the field that gave it.
    public mutating func resolveField(_ value: UnsafeRawBufferPointer) -> (nanos: Int64, field: Int)? {
        guard !keys.isEmpty, value.first == UInt8(ascii: "{") || value.first.map(Self.isSpace) == true else { return nil }
        // Fields whose quoted name appears nowhere in the record cannot be members: skip them, so
        // the scan can stop at the first field that may be there (Fluent Bit's @timestamp leads
        // its records; a CRI record's time comes early too) instead of reading to the end to
        // prove an earlier one absent.
        var first = 0
        while first < keys.count, !JSONBytes.containsQuoted(keys[first], in: value) { first += 1 }
        guard first < keys.count else { return nil }
        let complete = JSONBytes.noteTopLevelMembers(value, keys: keys, into: &found, stopAt: first)
        guard complete || found[first] != nil else { return nil }
        if let range = found[first] {
            if let time = Self.parse(UnsafeRawBufferPointer(rebasing: value[range])) { return (time, first) }
            if first == keys.count - 1 { return nil }
            guard JSONBytes.noteTopLevelMembers(value, keys: keys, into: &found, stopAt: nil) else { return nil }
        }
        for slot in found.indices where slot > first {
            if let range = found[slot], let time = Self.parse(UnsafeRawBufferPointer(rebasing: value[range])) { return (time, slot) }
        }
        return nil
    }

    /// The event time of a valid JSON object whose members of the fields' names were already found
    /// (slot `k` of `found`: where the first top-level `keys[k]` member's value is in `value`, nil
    /// when absent): the first that holds a time, as ``resolve(_:)`` would answer. Encoders that
    /// validate each record note the fields in that pass instead of a scan of their own here.
    public static func time(in value: UnsafeRawBufferPointer, found: UnsafeBufferPointer<Range<Int>?>) -> Int64? {
        for slot in found.indices {
            if let range = found[slot], let time = parse(UnsafeRawBufferPointer(rebasing: value[range])) { return time }
        }
        return nil
    }

    /// Sets each record's `timestampMs` to its event time where it has one (the Kafka timestamp
    /// stays in `kafkaTimestampMs`): the whole of the event-time work for a sink without processors.
    public mutating func stamp(_ batch: inout RecordBatch) {
        guard !keys.isEmpty else { return }
        batch.bytes.withUnsafeBytes { bytes in
            for i in batch.records.indices {
                if let nanos = resolve(UnsafeRawBufferPointer(rebasing: bytes[batch.records[i].value])) {
                    batch.records[i].timestampMs = Self.millis(nanos)
                }
            }
        }
    }

    /// Nanoseconds to milliseconds, rounding down also before 1970.
    public static func millis(_ nanos: Int64) -> Int64 {
        nanos >= 0 ? nanos / 1_000_000 : (nanos - 999_999) / 1_000_000
    }

    /// Reads one member's raw JSON value (a string with its quotes, or a number) as a time in
    /// nanoseconds, the way ``resolve(_:)`` reads each field.
    public static func parse(_ raw: UnsafeRawBufferPointer) -> Int64? {
        guard let first = raw.first else { return nil }
        if first == UInt8(ascii: "\"") {
            guard raw.count >= 2 else { return nil }
            // An escaped string (`\u005A`) is no time, and neither parser accepts a backslash, so
            // it needs no search of its own: that byte loop over every time string was two-thirds
            // of this function's samples in the HEC profile (docs/cpu-profile.md).
            let text = UnsafeRawBufferPointer(rebasing: raw[(raw.startIndex + 1)..<(raw.endIndex - 1)])
            if let nanos = TimestampParser.parseISO8601(text) { return nanos }
            return epoch(text)
        }
        return epoch(raw)
    }

    /// 1990-01-01 and 2200-01-01 in nanoseconds: the window a number must land in.
    private static let plausible: ClosedRange<Int64> = 631_152_000_000_000_000...7_258_118_400_000_000_000

    /// A number read by the size of its integer part.
    static func epoch(_ text: UnsafeRawBufferPointer) -> Int64? {
        var digits = 0
        var i = text.startIndex
        if i < text.endIndex, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") { i += 1 }
        while i < text.endIndex, text[i] >= UInt8(ascii: "0"), text[i] <= UInt8(ascii: "9") {
            digits += 1
            i += 1
        }
        guard digits > 0 else { return nil }
        let unit: TimestampParser.EpochUnit =
            digits <= 11 ? .seconds : digits <= 14 ? .milliseconds : digits <= 17 ? .microseconds : .nanoseconds
        guard let nanos = TimestampParser.parseEpoch(text, unit: unit), plausible.contains(nanos) else { return nil }
        return nanos
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
}
