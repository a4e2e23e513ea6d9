import Foundation
import LogBridgeCore

/// The `Retry-After` response header (RFC 9110): delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// The delay the server asked for, capped at `limit`; nil when the header is absent or unreadable.
    public static func delay(_ value: String?, now: Date = Date(), limit: Duration = .seconds(300)) -> Duration? {
        guard var value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value), seconds >= 0 {
            return min(.seconds(seconds), limit)
        }
        guard let nanos = value.withUTF8({ httpDate.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        let seconds = max(0, Double(nanos) / 1e9 - now.timeIntervalSince1970)
        return min(.milliseconds(Int64(seconds * 1000)), limit)
    }

    /// The HTTP-date servers send (IMF-fixdate, `Wed, 18 Nov 2026 11:07:00 GMT`), read with the
    /// project's strptime (`StrftimeFormat`). Foundation's `DateFormatter` stopped the process on
    /// some values that are not dates (`tm` and a combining mark: "Incorrect range CFRange"), so a server or proxy
    /// could crash the gateway with one header, and leaked on others (found by fuzzing,
    /// Fuzz/Corpus/loki-response/retry-after-combining-mark).
    private static let httpDate: StrftimeFormat = {
        do { return try StrftimeFormat("%a, %d %b %Y %H:%M:%S GMT") } catch { fatalError("\(error)") }
    }()
}
