import LogBridgeCore

/// Deterministic Fluent Bit-style container log records (~300 bytes of JSON), one in five carrying
/// personal data (an e-mail address, a card number, an IP address, a phone number), the way
/// Kubernetes logs arrive in Event Hubs from the Fluent Bit `kafka` output.
///
/// Used by `logbridge demo`, the tests and the benchmark harness, so all of them work on the same
/// shape of data.
public enum SyntheticLogs {
    static let namespaces = ["shop", "payments", "identity", "search", "ingress-nginx"]
    static let apps = ["checkout", "billing", "login", "catalog", "controller"]
    static let levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
    static let messages = [
        "request completed status=200 path=/api/v1/orders duration_ms=%d",
        "cache miss for key product:%d, loading from database",
        "retrying upstream call attempt=%d backend=inventory",
        "user session refreshed session_id=%d ttl=3600",
        "GET /healthz 200 %dus",
    ]
    static let piiMessages = [
        "order %d placed by jane.doe@example.com card 4111 1111 1111 1111",
        "password reset requested for user %d email john.smith+test@corp.example.org from 203.0.113.%d",
        "payment declined for customer %d card 5500-0000-0000-0004 phone +44 20 7946 0958",
        "login failed for %d from 198.51.100.%d user=alice@example.net",
    ]

    /// The start of yesterday (UTC) when the process started: records carry their own event time
    /// (`time`, read by default, see `source.event_time_fields`), and a fixed date would age past
    /// what Loki accepts (a week). Stable within a run and across the processes of one run.
    public static let defaultBaseMillis: Int64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let day: Int64 = 86_400_000
        return (Int64(now.tv_sec) * 1000 / day - 1) * day
    }()

    /// Record `index` as UTF-8 JSON bytes. The epoch base keeps timestamps realistic and stable.
    /// With `dateMicros` (a paced benchmark run stamps each record as it is produced) `date` has
    /// microseconds, as Fluent Bit writes it, so a sink-side probe can measure end-to-end latency.
    public static func record(_ index: Int, baseMillis: Int64 = defaultBaseMillis, dateMicros: Int64? = nil) -> [UInt8] {
        let millis = dateMicros.map { $0 / 1000 } ?? baseMillis + Int64(index) * 3
        let date = dateMicros.map { "\($0 / 1_000_000).\(String($0 % 1_000_000).leftPadded(6))" }
            ?? "\(millis / 1000).\(String(millis % 1000).leftPadded(3))"
        let app = index % apps.count
        let hasPII = index % 5 == 0
        let template = hasPII ? piiMessages[index / 5 % piiMessages.count] : messages[index % messages.count]
        var message = template.replacingFirst("%d", with: String(index))
        message = message.replacingFirst("%d", with: String(index % 250 + 1))
        var stamp: [UInt8] = []
        Timestamp.appendRFC3339(millis: millis, to: &stamp)
        let time = String(decoding: stamp, as: UTF8.self)
        let level = levels[index % levels.count]
        var line: [UInt8] = []
        JSONBytes.appendString("\(time) \(level) [\(apps[app])] \(message)", to: &line)
        let pod = "\(apps[app])-7d9f8b6c5-\(String(index % 97 + 10_000, radix: 36))"
        return Array("""
        {"date":\(date),"time":"\(time)","stream":"\(index % 7 == 0 ? "stderr" : "stdout")","log":\(String(decoding: line, as: UTF8.self)),"kubernetes":{"pod_name":"\(pod)","namespace_name":"\(namespaces[app])","container_name":"\(apps[app])","host":"aks-nodepool1-31415926-vmss00000\(index % 4)"}}
        """.utf8)
    }
}

extension String {
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }

    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

import Foundation
