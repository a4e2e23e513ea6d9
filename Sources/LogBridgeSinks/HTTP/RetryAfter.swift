import Foundation

/// The `Retry-After` response header (RFC 9110): delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// The delay the server asked for, capped at `limit`; nil when the header is absent or unreadable.
    public static func delay(_ value: String?, now: Date = Date(), limit: Duration = .seconds(300)) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 {
            return min(.seconds(seconds), limit)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now))
        return min(.milliseconds(Int64(seconds * 1000)), limit)
    }
}
