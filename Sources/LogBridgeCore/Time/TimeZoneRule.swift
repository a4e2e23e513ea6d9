// The only time file that imports Foundation: IANA zone rules come from
// Foundation's `TimeZone` (tzdata), consulted once per zone and local hour, never per record.
import Foundation
import Synchronization

/// A configuration error in a time zone or timestamp format; the message says what to fix.
public struct TimestampFormatError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// How to place timestamps that carry no UTC offset.
public enum TimeZoneRule: Sendable, Equatable {
    /// Wall-clock times are UTC.
    case utc
    /// A fixed offset, in seconds east of UTC.
    case fixed(seconds: Int)
    /// An IANA zone (`Europe/Paris`), daylight saving time included.
    case named(String)

    /// Reads a zone from configuration text.
    ///
    /// Accepts `UTC`/`Z`/`GMT` (any case), numeric offsets `+02:00`, `-0530`, `+02`, an IANA
    /// name (`Europe/Paris`), and `Local` for the machine's zone at the time of the call
    /// (from `TZ` or `/etc/localtime`).
    /// - Throws: `TimestampFormatError` for an empty, malformed or unknown zone.
    public init(_ text: String) throws(TimestampFormatError) {
        // Trimmed with the stdlib: Foundation stays limited to the zone database.
        var sub = Substring(text)
        while sub.first?.isWhitespace == true { sub.removeFirst() }
        while sub.last?.isWhitespace == true { sub.removeLast() }
        let trimmed = String(sub)
        switch trimmed.uppercased() {
        case "": throw TimestampFormatError("empty time zone; use UTC, an offset like +02:00, an IANA name like Europe/Paris, or Local")
        case "UTC", "Z", "GMT", "ETC/UTC", "UCT": self = .utc; return
        case "LOCAL": self = Self.machineZone(); return
        default: break
        }
        if let first = trimmed.utf8.first, first == 0x2B || first == 0x2D {
            var bytes = Array(trimmed.utf8)
            let parsed = bytes.withUnsafeMutableBytes { raw -> Int? in
                let b = UnsafeRawBufferPointer(raw)
                guard let (seconds, next) = ASCIIBytes.readOffset(b, at: 0), next == b.count else { return nil }
                return seconds
            }
            guard let seconds = parsed else {
                throw TimestampFormatError("invalid UTC offset '\(trimmed)'; write it as +hh:mm, +hhmm or +hh (hours 0-23, minutes 0-59)")
            }
            self = seconds == 0 ? .utc : .fixed(seconds: seconds)
            return
        }
        guard TimeZone(identifier: trimmed) != nil else {
            throw TimestampFormatError("unknown time zone '\(trimmed)'; use an IANA name such as Europe/Paris (see /usr/share/zoneinfo), UTC, an offset like +02:00, or Local")
        }
        self = .named(trimmed)
    }

    /// The machine's zone, reduced to `.utc` when it is UTC so the hot path skips the lookup.
    static func machineZone() -> TimeZoneRule {
        let zone = TimeZone.current
        switch zone.identifier {
        case "UTC", "GMT", "Etc/UTC", "Etc/GMT", "Universal", "Zulu": return .utc
        default: return .named(zone.identifier)
        }
    }

    /// UTC offset in seconds for a local wall-clock time, given as seconds since the epoch
    /// *as if it were UTC*; subtract the result to get the real instant.
    ///
    /// For named zones: a time in a spring-forward gap (02:30 in Paris on the last Sunday of
    /// March) takes the offset from before the change, as Java and Python do (it lands on
    /// 03:30 summer time); a time repeated by a fall-back takes whichever offset the lookup
    /// finds first, standard time in practice. Results are cached per zone and local hour
    /// (unless the hour contains a transition), so a stream of records costs a lock and a compare.
    public func offset(forLocalSeconds localSeconds: Int64) -> Int {
        switch self {
        case .utc: return 0
        case .fixed(let seconds): return seconds
        case .named(let name): return NamedZoneOffsets.offset(zone: name, localSeconds: localSeconds)
        }
    }
}

/// Per-process cache of named-zone offsets by local hour.
///
/// A `Mutex` rather than per-parser state because `TimeZoneRule` is a plain value shared by
/// configurations; the critical section is a few compares on a hit.
enum NamedZoneOffsets {
    static let slotCount = 16

    struct Storage {
        var zones: [String: TimeZone] = [:]
        var slotZone = [String](repeating: "", count: NamedZoneOffsets.slotCount)
        var slotHour = [Int64](repeating: .min, count: NamedZoneOffsets.slotCount)
        var slotOffset = [Int](repeating: 0, count: NamedZoneOffsets.slotCount)
    }

    static let shared = Mutex(Storage())

    static func offset(zone name: String, localSeconds: Int64) -> Int {
        let hour = localSeconds >= 0 ? localSeconds / 3600 : (localSeconds - 3599) / 3600
        // Mixing in the name's length spreads a few zones over the slots; utf8.count is O(1).
        let slot = Int(truncatingIfNeeded: hour &+ Int64(name.utf8.count &* 7)) & (slotCount - 1)
        return shared.withLock { storage -> Int in
            if storage.slotHour[slot] == hour && storage.slotZone[slot] == name {
                return storage.slotOffset[slot]
            }
            let zone: TimeZone
            if let known = storage.zones[name] {
                zone = known
            } else {
                // Validated at `TimeZoneRule.init`; a hand-built `.named` with a bad name acts as UTC.
                zone = TimeZone(identifier: name) ?? TimeZone(secondsFromGMT: 0)!
                storage.zones[name] = zone
            }
            let result = resolve(zone, localSeconds)
            // Cache only hours without a transition inside them, so every second of the hour shares it.
            let first = resolve(zone, hour * 3600)
            if first == result && resolve(zone, hour * 3600 + 3599) == result {
                storage.slotZone[slot] = name
                storage.slotHour[slot] = hour
                storage.slotOffset[slot] = result
            }
            return result
        }
    }

    /// Local wall-clock seconds -> offset, by fixed-point iteration on the instant.
    static func resolve(_ zone: TimeZone, _ local: Int64) -> Int {
        @inline(__always) func offset(atInstant s: Int64) -> Int {
            zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(s)))
        }
        let guess = offset(atInstant: local)
        let o1 = offset(atInstant: local - Int64(guess))
        if o1 == guess { return o1 }
        let o2 = offset(atInstant: local - Int64(o1))
        if o2 == o1 { return o1 }
        // Neither offset maps back to this wall-clock time: it is in a gap. The smaller offset
        // is the one in force before clocks moved forward.
        return min(o1, o2)
    }
}
