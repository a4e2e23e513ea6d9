/// Parses operator-friendly sizes: `1048576`, `512KiB`, `10GiB`, `1.5MB`, `64k`.
///
/// Binary (`KiB`, `MiB`, `GiB`, `TiB`, and the single letters `k`, `m`, `g`, `t`) and decimal
/// (`KB`, `MB`, `GB`, `TB`) units are accepted; a bare number is bytes.
///
/// Any text gives a size or nil, never a trap: a whole number is multiplied with overflow
/// checking (`99999999999999GiB` is nil, not a crash), and a fraction must stay finite and below
/// `Int.max`. Ranges per key are the caller's business.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !digits.isEmpty else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingWhitespace().lowercased()
        let multiplier: Int
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kib": multiplier = 1 << 10
        case "m", "mib": multiplier = 1 << 20
        case "g", "gib": multiplier = 1 << 30
        case "t", "tib": multiplier = 1 << 40
        case "kb": multiplier = 1000
        case "mb": multiplier = 1_000_000
        case "gb": multiplier = 1_000_000_000
        case "tb": multiplier = 1_000_000_000_000
        default: return nil
        }
        if let whole = Int(digits) {
            let (bytes, overflow) = whole.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : bytes
        }
        guard let number = Double(digits), number.isFinite else { return nil }
        let bytes = (number * Double(multiplier)).rounded(.down)
        // Double(Int.max) rounds up to 2^63, so `<` keeps Int(bytes) in range.
        guard bytes < Double(Int.max) else { return nil }
        return Int(bytes)
    }

    /// Formats a byte count the way `parse` reads it back (`10GiB`, `512MiB`, `1234`).
    public static func format(_ bytes: Int) -> String {
        let units: [(String, Int)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, size) in units where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return "\(bytes)"
    }
}

/// Parses durations the way operators write them: `250ms`, `30s`, `5m`, `1h`, `1m30s`.
///
/// Any text gives a duration or nil, never a trap: whole numbers are scaled to nanoseconds with
/// overflow checking and fractions must stay finite, so the longest duration is `Int64.max`
/// nanoseconds (about 292 years); `9999999999999999h` and `1e400s` are nil. Ranges per key are the
/// caller's business.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingWhitespace())
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !digits.isEmpty else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let nanosecondsPerUnit: Int64
            switch unit {
            case "ns": nanosecondsPerUnit = 1
            case "us", "µs": nanosecondsPerUnit = 1_000
            case "ms": nanosecondsPerUnit = 1_000_000
            case "s": nanosecondsPerUnit = 1_000_000_000
            case "m": nanosecondsPerUnit = 60_000_000_000
            case "h": nanosecondsPerUnit = 3_600_000_000_000
            default: return nil
            }
            let nanoseconds: Int64
            if let whole = Int64(digits) {
                let (product, overflow) = whole.multipliedReportingOverflow(by: nanosecondsPerUnit)
                guard !overflow else { return nil }
                nanoseconds = product
            } else {
                guard let value = Double(digits), value.isFinite else { return nil }
                let product = (value * Double(nanosecondsPerUnit)).rounded(.down)
                // Double(Int64.max) rounds up to 2^63, so `<` keeps Int64(product) in range.
                guard product < Double(Int64.max) else { return nil }
                nanoseconds = Int64(product)
            }
            let (sum, overflow) = total.addingReportingOverflow(nanoseconds)
            guard !overflow else { return nil }
            total = sum
        }
        return .nanoseconds(total)
    }

    public static func format(_ duration: Duration) -> String {
        let ms = duration.milliseconds
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension Duration {
    /// Whole milliseconds, rounded down; saturates at `Int64.min`/`Int64.max` for durations
    /// longer than about 292 million years rather than trapping.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
    }

    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

extension StringProtocol {
    /// Leading and trailing spaces, tabs and newlines removed (no Foundation needed).
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}
