/// Parses operator-friendly sizes: `1048576`, `512KiB`, `10GiB`, `1.5MB`, `64k`.
///
/// Binary (`KiB`, `MiB`, `GiB`, `TiB`, and the single letters `k`, `m`, `g`, `t`) and decimal
/// (`KB`, `MB`, `GB`, `TB`) units are accepted; a bare number is bytes.
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingWhitespace().lowercased()
        guard let number = Double(digits), number >= 0 else { return nil }
        let multiplier: Double
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kib": multiplier = 1024
        case "m", "mib": multiplier = 1024 * 1024
        case "g", "gib": multiplier = 1024 * 1024 * 1024
        case "t", "tib": multiplier = 1024 * 1024 * 1024 * 1024
        case "kb": multiplier = 1000
        case "mb": multiplier = 1_000_000
        case "gb": multiplier = 1_000_000_000
        case "tb": multiplier = 1_000_000_000_000
        default: return nil
        }
        let bytes = number * multiplier
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
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingWhitespace())
        guard !rest.isEmpty else { return nil }
        var total = Duration.zero
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(digits), !digits.isEmpty else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            let seconds: Double
            switch unit {
            case "ns": seconds = value / 1e9
            case "us", "µs": seconds = value / 1e6
            case "ms": seconds = value / 1e3
            case "s": seconds = value
            case "m": seconds = value * 60
            case "h": seconds = value * 3600
            default: return nil
            }
            total += .nanoseconds(Int64(seconds * 1e9))
        }
        return total
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
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
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
