// The live screen of `logbridge status --admin URL`: an operator watches it
// during a cut-over from a Splunk Heavy Forwarder to see, at a glance, whether
// records come in from Kafka, whether the spool is filling up, and whether
// every sink keeps up. Everything here is computed from two scrapes of the admin
// endpoint's Prometheus text; rates are counter deltas over the time between them.

import Foundation
import LogBridgeCore
import LogBridgeSinks

/// One scrape of the admin endpoint, with the time it was taken.
///
/// The instant comes from `ContinuousClock` rather than wall-clock time so a
/// clock adjustment between two refreshes cannot produce a negative or inflated rate.
public struct StatusSnapshot: Sendable {
    /// Every sample of the scraped exposition.
    public var samples: [PrometheusSample]
    /// When the scrape was taken.
    public var at: ContinuousClock.Instant

    public init(samples: [PrometheusSample], at: ContinuousClock.Instant) {
        self.samples = samples
        self.at = at
    }
}

/// Renders `logbridge status` from admin-endpoint snapshots, as a plain-text
/// screen (`render`) or as one JSON object per refresh (`json`).
///
/// Any metric missing from a scrape shows as `-` (text) or `null` (JSON), so the
/// view keeps working against an older or partly started gateway.
public enum StatusView {
    /// Renders the screen for `current`, with rates computed against `previous`.
    ///
    /// - Parameters:
    ///   - previous: the preceding scrape; without it every rate shows `-`.
    ///   - current: the latest scrape.
    ///   - adminURL: shown in the header so the operator knows which instance this is.
    ///   - width: every line is cut to this many characters; 0 or less means no limit.
    /// - Returns: lines joined by `\n`, without a trailing newline and without
    ///   terminal escapes (the caller clears the screen).
    public static func render(
        previous: StatusSnapshot?, current: StatusSnapshot, adminURL: String, width: Int = 100
    ) -> String {
        let status = Status(current: current, previous: previous)
        var lines: [String] = []

        let group: String
        switch status.groupJoined {
        case nil: group = "group -"
        // Shouted because a member without an assignment consumes nothing.
        case let joined? where joined >= 0.5: group = "group joined"
        default: group = "group NOT JOINED"
        }
        let rss = status.rssBytes.map { String(format: "%.1f MiB", $0 / 1_048_576) } ?? "-"
        let cpu = status.cpuPercent.map { String(format: "%.1f%%", $0) } ?? "-"
        lines.append(
            "logbridge status  \(adminURL)  version \(status.version ?? "-")  \(group)  RSS \(rss)  CPU \(cpu)")

        lines.append(
            "source  in \(formatRate(status.sourceRecordsPerSecond)) rec/s  \(formatMegabytes(status.sourceBytesPerSecond)) MB/s"
                + "  lag \(formatCount(status.lag))"
                + "  partitions \(formatCount(status.assigned)) assigned, \(formatCount(status.paused)) paused"
                + "  rebalances \(formatCount(status.rebalances))")

        var spool = "spool   used \(formatBytes(status.spoolUsedBytes)) / \(formatBytes(status.spoolMaxBytes))"
        if let used = status.spoolUsedBytes, let max = status.spoolMaxBytes, max > 0 {
            spool += String(format: " (%.1f%%)", used / max * 100)
        }
        spool += "  records \(formatCount(status.spoolRecords))"
        spool += "  oldest \(formatAge(status.oldestAgeSeconds))"
        spool += "  dead letters \(formatCount(status.deadLetters))"
        // While full, the source is paused and lag grows: the one state the
        // operator must not miss, so it gets its own word at the end of the line.
        if let full = status.spoolFull, full >= 0.5 { spool += "  FULL" }
        lines.append(spool)
        lines.append("")

        let header = ["SINK", "REC/S", "MB/S", "BACKLOG", "RETRY/S", "FAIL/S", "DEAD", "IN-FLIGHT", "UP"]
        var rows: [[String]] = []
        for sink in status.sinks {
            let inFlight = "\(formatCount(sink.inFlight))/\(formatCount(sink.concurrencyLimit))"
            let up = sink.endpoints.map { "\(sink.endpointsUp ?? 0)/\($0)" } ?? "-"
            rows.append([
                abbreviate(sink.name, to: maxSinkNameWidth),
                formatRate(sink.recordsPerSecond),
                formatMegabytes(sink.bytesPerSecond),
                formatCount(sink.backlog),
                formatRate(sink.retriedPerSecond),
                formatRate(sink.failuresPerSecond),
                formatCount(sink.deadLettered),
                inFlight,
                up,
            ])
        }
        lines.append(contentsOf: table(header: header, rows: rows))
        if rows.isEmpty { lines.append("(no sinks reported)") }
        // Why an endpoint's requests get no answer, with the setting to check: the line an operator
        // acts on during an outage, so it follows the table rather than hiding in a column.
        for fault in status.faults {
            lines.append("! \(fault.sink) \(fault.origin): \(fault.kind?.summary ?? fault.raw)")
            if let kind = fault.kind { lines.append("    \(kind.fix)") }
        }

        return lines.map { truncate($0, to: width) }.joined(separator: "\n")
    }

    /// One JSON object (a single line) for `logbridge status --json`.
    ///
    /// Keys are always present and always in the same order so that line-oriented
    /// tools (`jq`, log shippers) can rely on them; unknown values and every rate
    /// without a `previous` snapshot are `null`. `endpoints` is the number of
    /// endpoints the sink reports, `endpoints_up` how many of them are in rotation.
    /// `endpoint_faults` follows the sinks while at least one endpoint has a network fault: each
    /// with its `sink`, `endpoint` (origin), `fault` (``SinkNetworkFault`` raw value) and `message`.
    public static func json(current: StatusSnapshot, previous: StatusSnapshot?) -> String {
        let status = Status(current: current, previous: previous)
        let source = jsonObject([
            ("records_per_s", jsonNumber(status.sourceRecordsPerSecond)),
            ("bytes_per_s", jsonNumber(status.sourceBytesPerSecond)),
            ("lag", jsonNumber(status.lag)),
            ("assigned", jsonNumber(status.assigned)),
            ("paused", jsonNumber(status.paused)),
        ])
        let spool = jsonObject([
            ("used_bytes", jsonNumber(status.spoolUsedBytes)),
            ("max_bytes", jsonNumber(status.spoolMaxBytes)),
            ("records", jsonNumber(status.spoolRecords)),
            ("oldest_age_s", jsonNumber(status.oldestAgeSeconds)),
            ("dead_letters", jsonNumber(status.deadLetters)),
            ("full", status.spoolFull.map { $0 >= 0.5 ? "true" : "false" } ?? "null"),
        ])
        let sinks = status.sinks.map { sink in
            jsonObject([
                ("name", JSONBytes.quoted(sink.name)),
                ("records_per_s", jsonNumber(sink.recordsPerSecond)),
                ("bytes_per_s", jsonNumber(sink.bytesPerSecond)),
                ("backlog", jsonNumber(sink.backlog)),
                ("retried_per_s", jsonNumber(sink.retriedPerSecond)),
                ("failures_per_s", jsonNumber(sink.failuresPerSecond)),
                ("dead_lettered", jsonNumber(sink.deadLettered)),
                ("in_flight", jsonNumber(sink.inFlight)),
                ("concurrency_limit", jsonNumber(sink.concurrencyLimit)),
                ("endpoints_up", sink.endpointsUp.map(String.init) ?? "null"),
                ("endpoints", sink.endpoints.map(String.init) ?? "null"),
            ])
        }
        let faults = status.faults.map { fault in
            jsonObject([
                ("sink", JSONBytes.quoted(fault.sink)),
                ("endpoint", JSONBytes.quoted(fault.origin)),
                ("fault", JSONBytes.quoted(fault.raw)),
                ("message", fault.kind.map { JSONBytes.quoted(EndpointFault(kind: $0, origin: fault.origin).message) } ?? "null"),
            ])
        }
        var members = [
            ("source", source),
            ("spool", spool),
            ("sinks", "[" + sinks.joined(separator: ",") + "]"),
        ]
        // Only while there is one: the object keeps the shape tools already parse when all is well.
        if !faults.isEmpty { members.append(("endpoint_faults", "[" + faults.joined(separator: ",") + "]")) }
        return jsonObject(members)
    }

    // MARK: - Model

    /// Longest sink name shown in full; longer names would push every other
    /// column off an 80–100 column terminal.
    private static let maxSinkNameWidth = 24

    /// Reads gauges and counter rates out of two snapshots.
    private struct Reader {
        let current: [PrometheusSample]
        let previous: [PrometheusSample]?
        /// Seconds between the two scrapes; nil without a previous scrape or when
        /// the clock did not advance (a rate would divide by zero).
        let elapsed: Double?

        init(current: StatusSnapshot, previous: StatusSnapshot?) {
            self.current = current.samples
            self.previous = previous?.samples
            if let previous {
                let parts = (current.at - previous.at).components
                let seconds = Double(parts.seconds) + Double(parts.attoseconds) / 1e18
                elapsed = seconds > 0 ? seconds : nil
            } else {
                elapsed = nil
            }
        }

        static func matching(
            _ samples: [PrometheusSample], _ name: String, _ labels: [String: String]
        ) -> [PrometheusSample] {
            samples.filter { sample in
                sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
        }

        /// Sum over the matching series of the current scrape (per-partition lag,
        /// or a single gauge); nil when no series matches, so the view shows `-`
        /// instead of a misleading 0.
        func total(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            let series = Self.matching(current, name, labels)
            return series.isEmpty ? nil : series.reduce(0) { $0 + $1.value }
        }

        /// Per-second increase of a counter, summed over the matching series.
        ///
        /// Deltas are taken series by series rather than on the sums: after a
        /// rebalance a partition's series disappears, and a drop in the sum would
        /// otherwise look like a counter reset and produce a huge spike. A series
        /// whose value went down was reset (gateway restart), so its whole current
        /// value is the increase, as in PromQL `rate`. A series new since the previous
        /// scrape counts from 0 because its counter was created in between; but when
        /// the previous scrape lacked the metric entirely the rate is unknown (nil).
        func rate(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            guard let previous, let elapsed else { return nil }
            let now = Self.matching(current, name, labels)
            guard !now.isEmpty, previous.contains(where: { $0.name == name }) else { return nil }
            var before: [[String: String]: Double] = [:]
            for sample in Self.matching(previous, name, labels) { before[sample.labels] = sample.value }
            var increase = 0.0
            for sample in now {
                let old = before[sample.labels] ?? 0
                increase += sample.value >= old ? sample.value - old : sample.value
            }
            return increase / elapsed
        }
    }

    private struct SinkStatus {
        var name: String
        var recordsPerSecond: Double?
        var bytesPerSecond: Double?
        var backlog: Double?
        var retriedPerSecond: Double?
        var failuresPerSecond: Double?
        var deadLettered: Double?
        var inFlight: Double?
        var concurrencyLimit: Double?
        var endpointsUp: Int?
        var endpoints: Int?
    }

    /// An endpoint's current network fault, from `logbridge_sink_endpoint_fault`.
    private struct FaultStatus {
        var sink: String
        /// `scheme://host:port` of the endpoint label.
        var origin: String
        /// The `fault` label as scraped.
        var raw: String
        /// nil for a fault this build does not know (a newer gateway): shown by its label.
        var kind: SinkNetworkFault?
    }

    /// Everything the screen and the JSON show, computed once per refresh.
    private struct Status {
        var version: String?
        var groupJoined: Double?
        var rssBytes: Double?
        var cpuPercent: Double?
        var sourceRecordsPerSecond: Double?
        var sourceBytesPerSecond: Double?
        var lag: Double?
        var assigned: Double?
        var paused: Double?
        var rebalances: Double?
        var spoolUsedBytes: Double?
        var spoolMaxBytes: Double?
        var spoolRecords: Double?
        var oldestAgeSeconds: Double?
        var deadLetters: Double?
        var spoolFull: Double?
        var sinks: [SinkStatus] = []
        var faults: [FaultStatus] = []

        /// Every per-sink metric; a sink shows up as soon as any of them carries its name.
        static let sinkMetrics = [
            "logbridge_sink_records_delivered_total", "logbridge_sink_bytes_delivered_total",
            "logbridge_sink_records_retried_total", "logbridge_sink_delivery_failures_total",
            "logbridge_sink_records_dead_lettered_total", "logbridge_sink_backlog_records",
            "logbridge_sink_requests_in_flight", "logbridge_sink_concurrency_limit", "logbridge_sink_endpoint_up",
        ]

        init(current: StatusSnapshot, previous: StatusSnapshot?) {
            let reader = Reader(current: current, previous: previous)
            let samples = current.samples

            version = samples.labelValues("logbridge_build_info", label: "version").first
            groupJoined = reader.total("logbridge_source_group_joined")
            rssBytes = reader.total("process_resident_memory_bytes")
            // CPU seconds per wall second is the fraction of one core; it can
            // exceed 100% on a multi-core host, like `top` shows it.
            cpuPercent = reader.rate("process_cpu_seconds_total").map { $0 * 100 }

            sourceRecordsPerSecond = reader.rate("logbridge_source_records_total")
            sourceBytesPerSecond = reader.rate("logbridge_source_bytes_total")
            lag = reader.total("logbridge_source_consumer_lag")
            assigned = reader.total("logbridge_source_assigned_partitions")
            paused = reader.total("logbridge_source_paused_partitions")
            rebalances = reader.total("logbridge_source_rebalances_total")

            spoolUsedBytes = reader.total("logbridge_spool_used_bytes")
            spoolMaxBytes = reader.total("logbridge_spool_max_bytes")
            spoolRecords = reader.total("logbridge_spool_records")
            oldestAgeSeconds = reader.total("logbridge_spool_oldest_record_age_seconds")
            deadLetters = reader.total("logbridge_spool_dead_letters")
            spoolFull = reader.total("logbridge_spool_full")

            var names = Set<String>()
            for metric in Self.sinkMetrics { names.formUnion(samples.labelValues(metric, label: "sink")) }
            sinks = names.sorted().map { name in
                let only = ["sink": name]
                let endpointSeries = Reader.matching(samples, "logbridge_sink_endpoint_up", only)
                return SinkStatus(
                    name: name,
                    recordsPerSecond: reader.rate("logbridge_sink_records_delivered_total", only),
                    bytesPerSecond: reader.rate("logbridge_sink_bytes_delivered_total", only),
                    backlog: reader.total("logbridge_sink_backlog_records", only),
                    retriedPerSecond: reader.rate("logbridge_sink_records_retried_total", only),
                    failuresPerSecond: reader.rate("logbridge_sink_delivery_failures_total", only),
                    deadLettered: reader.total("logbridge_sink_records_dead_lettered_total", only),
                    inFlight: reader.total("logbridge_sink_requests_in_flight", only),
                    concurrencyLimit: reader.total("logbridge_sink_concurrency_limit", only),
                    // The gauge is 0 or 1; >= 0.5 keeps a float rendering quirk from miscounting.
                    endpointsUp: endpointSeries.isEmpty ? nil : endpointSeries.filter { $0.value >= 0.5 }.count,
                    endpoints: endpointSeries.isEmpty ? nil : endpointSeries.count)
            }
            faults = samples.filter { $0.name == "logbridge_sink_endpoint_fault" && $0.value >= 0.5 }
                .compactMap { sample -> FaultStatus? in
                    guard let sink = sample.labels["sink"], let endpoint = sample.labels["endpoint"], let fault = sample.labels["fault"]
                    else { return nil }
                    return FaultStatus(
                        sink: sink, origin: EndpointPool.displayOrigin(endpoint), raw: fault, kind: SinkNetworkFault(rawValue: fault))
                }
                .sorted { ($0.sink, $0.origin) < ($1.sink, $1.origin) }
        }
    }

    // MARK: - Text formatting

    /// Lays out a table: first column left-aligned, the others right-aligned, so
    /// digits line up from one refresh to the next; columns are separated by two spaces.
    private static func table(header: [String], rows: [[String]]) -> [String] {
        var widths = header.map(\.count)
        for row in rows {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }
        return [line(header)] + rows.map(line)
    }

    private static func truncate(_ line: String, to width: Int) -> String {
        guard width > 0, line.count > width else { return line }
        return String(line.prefix(width))
    }

    private static func abbreviate(_ text: String, to width: Int) -> String {
        guard text.count > width else { return text }
        return String(text.prefix(width - 1)) + "…"
    }

    private static func nonFinite(_ value: Double) -> String {
        value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf")
    }

    /// Events per second, compact enough for a table cell: `0.25`, `42.5`, `1500`, `12.3k`, `1.25M`.
    static func formatRate(_ value: Double?) -> String {
        guard let value else { return "-" }
        guard value.isFinite else { return nonFinite(value) }
        let magnitude = abs(value)
        if magnitude == 0 { return "0" }
        if magnitude < 1 { return String(format: "%.2f", value) }
        if magnitude < 100 { return String(format: "%.1f", value) }
        if magnitude < 10_000 { return String(format: "%.0f", value) }
        if magnitude < 1_000_000 { return String(format: "%.1fk", value / 1_000) }
        return String(format: "%.2fM", value / 1_000_000)
    }

    /// Bytes per second as decimal megabytes (10^6), the unit network links and
    /// Splunk throughput figures use.
    static func formatMegabytes(_ bytesPerSecond: Double?) -> String {
        guard let bytesPerSecond else { return "-" }
        guard bytesPerSecond.isFinite else { return nonFinite(bytesPerSecond) }
        return String(format: "%.2f", bytesPerSecond / 1_000_000)
    }

    /// A gauge or counter value: exact integer when it is one (record counts, lag),
    /// otherwise one decimal.
    static func formatCount(_ value: Double?) -> String {
        guard let value else { return "-" }
        guard value.isFinite else { return nonFinite(value) }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(format: "%.1f", value)
    }

    /// A size in binary units (the spool limit is configured in bytes; MiB/GiB
    /// match what `du -h` and `ls -lh` print for the spool directory).
    static func formatBytes(_ value: Double?) -> String {
        guard let value else { return "-" }
        guard value.isFinite else { return nonFinite(value) }
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var scaled = value
        var unit = 0
        while abs(scaled) >= 1024, unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return unit == 0 ? "\(Int64(scaled)) B" : String(format: "%.1f", scaled) + " " + units[unit]
    }

    /// An age such as `45s`, `3m12s`, `2h05m` or `1d03h`: two units are enough to
    /// tell whether the oldest spooled record is seconds or hours behind.
    static func formatAge(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
        let total = seconds >= Double(Int64.max) ? Int64.max : Int64(seconds)
        if total < 60 { return "\(total)s" }
        if total < 3_600 { return "\(total / 60)m" + twoDigits(total % 60) + "s" }
        if total < 86_400 { return "\(total / 3_600)h" + twoDigits(total % 3_600 / 60) + "m" }
        return "\(total / 86_400)d" + twoDigits(total % 86_400 / 3_600) + "h"
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }

    // MARK: - JSON formatting

    /// Written by hand rather than with JSONSerialization so the key order is
    /// fixed and integers do not come out as `1500.0`.
    private static func jsonObject(_ members: [(String, String)]) -> String {
        "{" + members.map { JSONBytes.quoted($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// JSON has no NaN or infinity, so those become `null` like missing values.
    static func jsonNumber(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        // Swift's description is the shortest round-tripping form, e.g. `0.1`,
        // `1e-05`, `1.5e+20`; all of them are valid JSON numbers.
        return "\(value)"
    }
}
