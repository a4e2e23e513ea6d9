import Synchronization

/// Proleptic Gregorian calendar arithmetic on plain integers (Howard Hinnant's
/// `days_from_civil` / `civil_from_days`), so timestamp parsing never needs Foundation's
/// `Calendar`, which allocates and locks per call.
public enum CivilTime {
    /// Days since 1970-01-01 for a civil date; valid for any year (month 1...12, day 1...31).
    @inline(__always)
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        // Shift the year to start in March so the leap day is the last day of the "year".
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Civil date for a count of days since 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// ``civilFromDays(_:)`` for a day the process asked about last time, from a one-entry cache.
    ///
    /// The sinks render each record's date at least twice (the RFC 3339 `@timestamp`, the day in
    /// the index name), and a batch's records nearly all fall on one day: the division chain was
    /// 1.1% of the Elasticsearch profile, a relaxed atomic load is a plain load. The entry packs the
    /// day count (32 bits), the year (16) and month and day (8 each); a month of 0 marks it empty,
    /// and days outside what fits are computed every time.
    @inline(__always)
    public static func civilFromDaysCached(_ days: Int) -> (year: Int, month: Int, day: Int) {
        guard (0...Int(UInt32.max)).contains(days) else { return civilFromDays(days) }
        let entry = lastDay.load(ordering: .relaxed)
        if entry >> 32 == UInt64(days), entry & 0xFF00 != 0 {
            return (Int(entry >> 16 & 0xFFFF), Int(entry >> 8 & 0xFF), Int(entry & 0xFF))
        }
        let civil = civilFromDays(days)
        if (0...0xFFFF).contains(civil.year) {
            lastDay.store(UInt64(days) << 32 | UInt64(civil.year) << 16 | UInt64(civil.month) << 8 | UInt64(civil.day), ordering: .relaxed)
        }
        return civil
    }

    private static let lastDay = Atomic<UInt64>(0)

    @inline(__always)
    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Number of days in `month` (1...12) of `year`; 0 for an invalid month.
    @inline(__always)
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeapYear(year) ? 29 : 28
        default: return 0
        }
    }

    /// Whether year/month/day names a real calendar day.
    @inline(__always)
    public static func isValidDate(year: Int, month: Int, day: Int) -> Bool {
        day >= 1 && day <= daysInMonth(year: year, month: month)
    }

    /// Nanoseconds since the epoch for a wall-clock time minus `offsetSeconds` (east of UTC);
    /// nil when the result does not fit in Int64 (years outside roughly 1678...2261).
    @inline(__always)
    static func epochNanos(days: Int, secondOfDay: Int, nanos: Int64, offsetSeconds: Int) -> Int64? {
        let seconds = Int64(days) * 86_400 + Int64(secondOfDay) - Int64(offsetSeconds)
        let (scaled, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = scaled.addingReportingOverflow(nanos)
        return o1 || o2 ? nil : total
    }
}
