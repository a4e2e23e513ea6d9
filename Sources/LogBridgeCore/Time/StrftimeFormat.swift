#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A strftime-style format compiled once for parsing timestamps (the `strptime` direction).
///
/// Directives: `%Y` (1-4 digits) `%y` (69-99 -> 19xx, 00-68 -> 20xx) `%m` `%d` `%e` (may be
/// space-padded) `%j` `%H` `%I` `%p` `%M` `%S` (0-60) `%f` (fraction, 1-9 digits; more are
/// truncated) `%z` (`Z`, `+hh`, `+hhmm`, `+hh:mm`) `%Z` (matches only `UTC`, `GMT` or `Z`
/// in the input: abbreviations like `CET` are ambiguous, use `zone` or `%z`) `%b` `%h` `%B`
/// (month names, full or 3-letter, any case) `%a` `%A` (weekday names; checked for spelling,
/// not against the date) `%s` (epoch seconds; the other fields except `%f` are then ignored)
/// `%T` (= `%H:%M:%S`) `%F` (= `%Y-%m-%d`) `%D` (= `%m/%d/%y`) `%R` (= `%H:%M`) `%n` `%t`
/// (any run of blanks, possibly empty) `%%`. Numeric fields take 1 up to their width in
/// digits, so `%Y%m%d` reads `20261121`.
///
/// Literal bytes must match exactly, except that a space in the format matches one or more
/// spaces or tabs (syslog pads single-digit days: `Nov  1`).
///
/// Missing fields: no year -> the current UTC year, or the previous one when that would put
/// the time more than 30 days in the future (a December line read in January); no month or
/// day -> January / 1st (or from `%j`); no time -> midnight. Without `%z`/`%Z`/`%s` the
/// wall-clock time is placed with the `zone` given to `parse`.
public struct StrftimeFormat: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(UInt8)
        case blanks // one or more
        case optionalBlanks // zero or more (%n, %t)
        case year, shortYear, month, day, spacePaddedDay, dayOfYear
        case hour24, hour12, meridiem, minute, second, fraction
        case offset, zoneName, monthName, weekdayName, epochSeconds
    }

    /// The pattern this format was built from.
    public let pattern: String
    let tokens: [Token]

    /// Compiles `pattern`.
    /// - Throws: `TimestampFormatError` naming an unknown directive, or for a trailing `%`.
    public init(_ pattern: String) throws(TimestampFormatError) {
        self.pattern = pattern
        var tokens: [Token] = []
        let bytes = Array(pattern.utf8)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if c == 0x20 {
                if tokens.last != .blanks { tokens.append(.blanks) }
                continue
            }
            guard c == 0x25 else { tokens.append(.literal(c)); continue }
            guard i < bytes.count else {
                throw TimestampFormatError("timestamp format '\(pattern)' ends with a lone '%'; write '%%' for a literal percent sign")
            }
            let d = bytes[i]
            i += 1
            switch d {
            case UInt8(ascii: "Y"): tokens.append(.year)
            case UInt8(ascii: "y"): tokens.append(.shortYear)
            case UInt8(ascii: "m"): tokens.append(.month)
            case UInt8(ascii: "d"): tokens.append(.day)
            case UInt8(ascii: "e"): tokens.append(.spacePaddedDay)
            case UInt8(ascii: "j"): tokens.append(.dayOfYear)
            case UInt8(ascii: "H"): tokens.append(.hour24)
            case UInt8(ascii: "I"): tokens.append(.hour12)
            case UInt8(ascii: "p"): tokens.append(.meridiem)
            case UInt8(ascii: "M"): tokens.append(.minute)
            case UInt8(ascii: "S"): tokens.append(.second)
            case UInt8(ascii: "f"): tokens.append(.fraction)
            case UInt8(ascii: "z"): tokens.append(.offset)
            case UInt8(ascii: "Z"): tokens.append(.zoneName)
            case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "h"): tokens.append(.monthName)
            case UInt8(ascii: "a"), UInt8(ascii: "A"): tokens.append(.weekdayName)
            case UInt8(ascii: "s"): tokens.append(.epochSeconds)
            case UInt8(ascii: "T"): tokens += [.hour24, .literal(0x3A), .minute, .literal(0x3A), .second]
            case UInt8(ascii: "F"): tokens += [.year, .literal(0x2D), .month, .literal(0x2D), .day]
            case UInt8(ascii: "D"): tokens += [.month, .literal(0x2F), .day, .literal(0x2F), .shortYear]
            case UInt8(ascii: "R"): tokens += [.hour24, .literal(0x3A), .minute]
            case UInt8(ascii: "n"), UInt8(ascii: "t"): tokens.append(.optionalBlanks)
            case UInt8(ascii: "%"): tokens.append(.literal(0x25))
            default:
                let name = String(decoding: [0x25, d], as: UTF8.self)
                throw TimestampFormatError("unsupported directive '\(name)' in timestamp format '\(pattern)'; supported: %Y %y %m %d %e %j %H %I %p %M %S %f %z %Z %b %B %h %a %A %s %T %F %D %R %n %t %%")
            }
        }
        self.tokens = tokens
    }

    /// Parses `bytes`, which must match the whole format.
    /// - Returns: nanoseconds since the epoch, or nil when the input does not match, a field
    ///   is out of range, the date does not exist, or the result overflows Int64.
    public func parse(_ bytes: UnsafeRawBufferPointer, zone: TimeZoneRule = .utc) -> Int64? {
        parse(bytes, zone: zone, nowSeconds: nil)
    }

    static let monthNames: [StaticString] = [
        "january", "february", "march", "april", "may", "june",
        "july", "august", "september", "october", "november", "december",
    ]
    static let weekdayNames: [StaticString] = [
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ]

    /// Matches a full or 3-letter name from `names` at `i`; returns its index and the end.
    @inline(__always)
    static func readName(_ bytes: UnsafeRawBufferPointer, at i: Int, _ names: [StaticString]) -> (index: Int, next: Int)? {
        for (k, name) in names.enumerated() {
            if ASCIIBytes.matchesLowercased(bytes, at: i, name) { return (k, i + name.utf8CodeUnitCount) }
        }
        guard i + 3 <= bytes.count else { return nil }
        for (k, name) in names.enumerated() {
            let p = name.utf8Start
            if ASCIIBytes.lower(bytes[i]) == p[0] && ASCIIBytes.lower(bytes[i + 1]) == p[1] && ASCIIBytes.lower(bytes[i + 2]) == p[2] {
                return (k, i + 3)
            }
        }
        return nil
    }

    /// `parse` with an injectable clock for the missing-year rule (tests pin "now").
    func parse(_ bytes: UnsafeRawBufferPointer, zone: TimeZoneRule, nowSeconds: Int64?) -> Int64? {
        let n = bytes.count
        var i = 0
        var year: Int?
        var month = 1, day = 1
        var dayOfYear: Int?
        var hour = 0, hour12: Int?, isPM: Bool?
        var minute = 0, second = 0
        var nanos: Int64 = 0
        var offset: Int?
        var epoch: Int64?

        for token in tokens {
            switch token {
            case .literal(let c):
                guard i < n && bytes[i] == c else { return nil }
                i += 1
            case .blanks:
                guard i < n && ASCIIBytes.isBlank(bytes[i]) else { return nil }
                while i < n && ASCIIBytes.isBlank(bytes[i]) { i += 1 }
            case .optionalBlanks:
                while i < n && ASCIIBytes.isBlank(bytes[i]) { i += 1 }
            case .year:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 4) else { return nil }
                year = v; i = next
            case .shortYear:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2) else { return nil }
                year = v < 69 ? 2000 + v : 1900 + v; i = next
            case .month:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2), v >= 1 && v <= 12 else { return nil }
                month = v; i = next
            case .day, .spacePaddedDay:
                if token == .spacePaddedDay && i < n && bytes[i] == 0x20 { i += 1 }
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2), v >= 1 && v <= 31 else { return nil }
                day = v; i = next
            case .dayOfYear:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 3), v >= 1 && v <= 366 else { return nil }
                dayOfYear = v; i = next
            case .hour24:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2), v <= 23 else { return nil }
                hour = v; i = next
            case .hour12:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2), v >= 1 && v <= 12 else { return nil }
                hour12 = v; i = next
            case .meridiem:
                guard i + 2 <= n, ASCIIBytes.lower(bytes[i + 1]) == 0x6D else { return nil }
                switch ASCIIBytes.lower(bytes[i]) {
                case 0x61: isPM = false
                case 0x70: isPM = true
                default: return nil
                }
                i += 2
            case .minute:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2), v <= 59 else { return nil }
                minute = v; i = next
            case .second:
                guard let (v, next) = ASCIIBytes.readDigits(bytes, at: i, max: 2), v <= 60 else { return nil }
                second = v; i = next
            case .fraction:
                guard let (v, next) = ASCIIBytes.readFractionNanos(bytes, at: i) else { return nil }
                nanos = v; i = next
            case .offset:
                guard let (v, next) = ASCIIBytes.readOffset(bytes, at: i) else { return nil }
                offset = v; i = next
            case .zoneName:
                if ASCIIBytes.matchesLowercased(bytes, at: i, "utc") || ASCIIBytes.matchesLowercased(bytes, at: i, "gmt") {
                    i += 3
                } else if i < n && (bytes[i] == 0x5A || bytes[i] == 0x7A) {
                    i += 1
                } else {
                    return nil
                }
                offset = 0
            case .monthName:
                guard let (k, next) = Self.readName(bytes, at: i, Self.monthNames) else { return nil }
                month = k + 1; i = next
            case .weekdayName:
                guard let (_, next) = Self.readName(bytes, at: i, Self.weekdayNames) else { return nil }
                i = next
            case .epochSeconds:
                var j = i
                var negative = false
                if j < n && bytes[j] == 0x2D { negative = true; j += 1 }
                let start = j
                var v: Int64 = 0
                while j < n && ASCIIBytes.isDigit(bytes[j]) {
                    let (m, o1) = v.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(Int64(bytes[j] &- 0x30))
                    guard !o1 && !o2 else { return nil }
                    v = a; j += 1
                }
                guard j > start else { return nil }
                epoch = negative ? -v : v; i = j
            }
        }
        guard i == n else { return nil }

        if let epoch {
            let (scaled, o1) = epoch.multipliedReportingOverflow(by: 1_000_000_000)
            // A fraction extends the instant away from zero, like the sign of the seconds.
            let (total, o2) = epoch < 0 ? scaled.subtractingReportingOverflow(nanos) : scaled.addingReportingOverflow(nanos)
            return o1 || o2 ? nil : total
        }
        if let hour12 { hour = hour12 % 12 + (isPM == true ? 12 : 0) }
        let secondOfDay = hour * 3600 + minute * 60 + second

        func instant(year: Int) -> Int64? {
            var m = month, d = day
            if let dayOfYear {
                guard dayOfYear <= (CivilTime.isLeapYear(year) ? 366 : 365) else { return nil }
                let (_, mm, dd) = CivilTime.civilFromDays(CivilTime.daysFromCivil(year: year, month: 1, day: 1) + dayOfYear - 1)
                m = mm; d = dd
            }
            guard CivilTime.isValidDate(year: year, month: m, day: d) else { return nil }
            let days = CivilTime.daysFromCivil(year: year, month: m, day: d)
            let o = offset ?? zone.offset(forLocalSeconds: Int64(days) * 86_400 + Int64(secondOfDay))
            return CivilTime.epochNanos(days: days, secondOfDay: secondOfDay, nanos: nanos, offsetSeconds: o)
        }

        if let year { return instant(year: year) }
        let now = nowSeconds ?? Self.currentEpochSeconds()
        let currentYear = CivilTime.civilFromDays(Int(now >= 0 ? now / 86_400 : (now - 86_399) / 86_400)).year
        let candidate = instant(year: currentYear)
        if let candidate, candidate <= (now + 30 * 86_400) * 1_000_000_000 { return candidate }
        return instant(year: currentYear - 1) ?? candidate
    }

    /// Wall-clock seconds from the C library, to avoid Foundation on the per-record path.
    static func currentEpochSeconds() -> Int64 {
        Int64(time(nil))
    }
}
