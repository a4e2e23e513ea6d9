/// Event-time parsing on bytes; all results are nanoseconds since the Unix epoch (Int64),
/// which covers the years 1678...2261. Nothing here allocates or touches Foundation, except
/// the per-hour offset lookup of `TimeZoneRule.named`.
public enum TimestampParser {
    /// RFC 3339 / ISO 8601 extended format.
    ///
    /// Accepts `2026-11-21T10:15:30Z`, `2026-11-21T10:15:30.123456789+02:00`, `t` or a space
    /// instead of `T`, offsets `Z`, `+hh:mm`, `+hhmm`, `+hh`, a `.` or `,` fraction (digits past
    /// the ninth are truncated), `HH:MM` without seconds, and a date alone (`2026-11-21`,
    /// midnight). Without an offset the wall-clock time is placed with `zone`.
    ///
    /// Validates month 1-12, the day against the month (leap years included), hour 0-23
    /// (`24:00:00` is rejected), minute 0-59, second 0-60; a leap second `:60` becomes the
    /// first second of the next minute, since Unix time has no slot for it.
    /// - Returns: nil on any other shape, trailing bytes, input longer than 64 bytes (which
    ///   bounds the work on garbage), or a result outside Int64.
    public static func parseISO8601(_ bytes: UnsafeRawBufferPointer, zone: TimeZoneRule = .utc) -> Int64? {
        let n = bytes.count
        guard n >= 10, n <= 64,
              let (year, _) = ASCIIBytes.readDigits(bytes, at: 0, min: 4, max: 4), bytes[4] == 0x2D,
              let (month, _) = ASCIIBytes.readDigits(bytes, at: 5, min: 2, max: 2), bytes[7] == 0x2D,
              let (day, _) = ASCIIBytes.readDigits(bytes, at: 8, min: 2, max: 2),
              month >= 1 && month <= 12, CivilTime.isValidDate(year: year, month: month, day: day)
        else { return nil }
        let days = CivilTime.daysFromCivil(year: year, month: month, day: day)
        if n == 10 {
            return CivilTime.epochNanos(days: days, secondOfDay: 0, nanos: 0,
                                        offsetSeconds: zone.offset(forLocalSeconds: Int64(days) * 86_400))
        }

        let sep = bytes[10]
        guard sep == 0x54 || sep == 0x74 || sep == 0x20, n >= 16,
              let (hour, _) = ASCIIBytes.readDigits(bytes, at: 11, min: 2, max: 2), bytes[13] == 0x3A,
              let (minute, _) = ASCIIBytes.readDigits(bytes, at: 14, min: 2, max: 2),
              hour <= 23, minute <= 59
        else { return nil }
        var i = 16
        var second = 0
        if i < n && bytes[i] == 0x3A {
            guard let (s, next) = ASCIIBytes.readDigits(bytes, at: i + 1, min: 2, max: 2), s <= 60 else { return nil }
            second = s
            i = next
        }
        var nanos: Int64 = 0
        if i < n && (bytes[i] == 0x2E || bytes[i] == 0x2C) {
            guard let (f, next) = ASCIIBytes.readFractionNanos(bytes, at: i + 1) else { return nil }
            nanos = f
            i = next
        }
        let secondOfDay = hour * 3600 + minute * 60 + second
        let offset: Int
        if i == n {
            offset = zone.offset(forLocalSeconds: Int64(days) * 86_400 + Int64(secondOfDay))
        } else {
            guard let (o, next) = ASCIIBytes.readOffset(bytes, at: i), next == n else { return nil }
            offset = o
        }
        return CivilTime.epochNanos(days: days, secondOfDay: secondOfDay, nanos: nanos, offsetSeconds: offset)
    }

    /// Unit of a numeric epoch timestamp.
    public enum EpochUnit: String, Sendable, CaseIterable {
        case seconds, milliseconds, microseconds, nanoseconds

        /// Nanoseconds per unit, and how many fraction digits are still whole nanoseconds.
        var scale: (nanos: Int64, fractionDigits: Int) {
            switch self {
            case .seconds: return (1_000_000_000, 9)
            case .milliseconds: return (1_000_000, 6)
            case .microseconds: return (1_000, 3)
            case .nanoseconds: return (1, 0)
            }
        }
    }

    /// A numeric epoch timestamp: optional sign, decimal digits, optional `.` and fraction
    /// digits (`1700000000.123`). Fraction digits finer than a nanosecond are truncated.
    /// - Returns: nil for any other shape (exponents, blanks, empty) or on Int64 overflow.
    public static func parseEpoch(_ bytes: UnsafeRawBufferPointer, unit: EpochUnit) -> Int64? {
        let n = bytes.count
        var i = 0
        var negative = false
        if i < n && (bytes[i] == 0x2D || bytes[i] == 0x2B) { negative = bytes[i] == 0x2D; i += 1 }
        let digitsStart = i
        var whole: Int64 = 0
        while i < n && ASCIIBytes.isDigit(bytes[i]) {
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] &- 0x30))
            if o1 || o2 { return nil }
            whole = a
            i += 1
        }
        guard i > digitsStart else { return nil }
        let (scale, fractionDigits) = unit.scale
        var fraction: Int64 = 0
        if i < n && bytes[i] == 0x2E {
            i += 1
            let fractionStart = i
            var kept = 0
            while i < n && ASCIIBytes.isDigit(bytes[i]) {
                if kept < fractionDigits { fraction = fraction * 10 + Int64(bytes[i] &- 0x30); kept += 1 }
                i += 1
            }
            guard i > fractionStart else { return nil }
            while kept < fractionDigits { fraction *= 10; kept += 1 }
        }
        guard i == n else { return nil }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: scale)
        let (total, o2) = scaled.addingReportingOverflow(fraction)
        if o1 || o2 { return nil }
        return negative ? -total : total
    }
}
