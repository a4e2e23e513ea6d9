import Foundation
import Testing
@testable import LogBridge

/// An admin-endpoint exposition at time `t` seconds, with known per-second increases.
private func exposition(t: Double, spoolFull: Bool = false) -> String {
    """
    # HELP logbridge_build_info Build information.
    # TYPE logbridge_build_info gauge
    logbridge_build_info{version="1.4.0"} 1
    process_resident_memory_bytes 104857600
    process_cpu_seconds_total \(10 + 0.25 * t)
    # TYPE logbridge_source_records_total counter
    logbridge_source_records_total{topic="app-logs",partition="0"} \(10_000 + 1_000 * t)
    logbridge_source_records_total{topic="app-logs",partition="1"} \(5_000 + 500 * t)
    logbridge_source_bytes_total \(1_000_000 + 750_000 * t)
    logbridge_source_consumer_lag{topic="app-logs",partition="0"} 100
    logbridge_source_consumer_lag{topic="app-logs",partition="1"} 23
    logbridge_source_assigned_partitions 2
    logbridge_source_paused_partitions 0
    logbridge_source_group_joined 1
    logbridge_source_rebalances_total 3
    logbridge_spool_used_bytes 1073741824
    logbridge_spool_max_bytes 4294967296
    logbridge_spool_records 4200
    logbridge_spool_oldest_record_age_seconds 192.4
    logbridge_spool_dead_letters 7
    logbridge_spool_full \(spoolFull ? 1 : 0)
    logbridge_sink_records_delivered_total{sink="splunk"} \(50_000 + 1_200 * t)
    logbridge_sink_bytes_delivered_total{sink="splunk"} \(600_000 * t)
    logbridge_sink_records_retried_total{sink="splunk"} \(10 + 5 * t)
    logbridge_sink_delivery_failures_total{sink="splunk"} \(2 + t)
    logbridge_sink_records_dead_lettered_total{sink="splunk"} 4
    logbridge_sink_backlog_records{sink="splunk"} 300
    logbridge_sink_requests_in_flight{sink="splunk"} 3
    logbridge_sink_concurrency_limit{sink="splunk"} 8
    logbridge_sink_endpoint_up{sink="splunk",endpoint="hec-1:8088"} 1
    logbridge_sink_endpoint_up{sink="splunk",endpoint="hec-2:8088"} 1
    logbridge_sink_endpoint_up{sink="splunk",endpoint="hec-3:8088"} 0
    logbridge_sink_request_duration_seconds_bucket{sink="splunk",endpoint="hec-1:8088",le="+Inf"} 12
    logbridge_sink_records_delivered_total{sink="s3-archive"} \(300 * t)
    logbridge_sink_bytes_delivered_total{sink="s3-archive"} \(3_000_000 * t)
    logbridge_sink_records_retried_total{sink="s3-archive"} 0
    logbridge_sink_delivery_failures_total{sink="s3-archive"} 0
    logbridge_sink_records_dead_lettered_total{sink="s3-archive"} 0
    logbridge_sink_backlog_records{sink="s3-archive"} 1200
    logbridge_sink_requests_in_flight{sink="s3-archive"} 1
    logbridge_sink_concurrency_limit{sink="s3-archive"} 4
    """
}

private let t0 = ContinuousClock.now

private func snapshot(_ text: String, after seconds: Double = 0) throws -> StatusSnapshot {
    StatusSnapshot(samples: try PrometheusText.parse(text), at: t0.advanced(by: .seconds(seconds)))
}

/// The cells of the table row whose first cell is `name`.
private func row(_ screen: String, _ name: String) -> [String]? {
    screen.split(separator: "\n")
        .map { $0.split(separator: " ").map(String.init) }
        .first { $0.first == name }
}

private func line(_ screen: String, startingWith prefix: String) -> String? {
    screen.split(separator: "\n").map(String.init).first { $0.hasPrefix(prefix) }
}

@Suite("StatusView")
struct StatusViewTests {
    let url = "http://127.0.0.1:9464"

    @Test func ratesFromTwoSnapshotsOneSecondApart() throws {
        let previous = try snapshot(exposition(t: 0))
        let current = try snapshot(exposition(t: 1, spoolFull: true), after: 1)
        let screen = StatusView.render(previous: previous, current: current, adminURL: url)

        let header = try #require(line(screen, startingWith: "logbridge status"))
        #expect(header.contains(url))
        #expect(header.contains("version 1.4.0"))
        #expect(header.contains("group joined"))
        #expect(header.contains("RSS 100.0 MiB"))
        #expect(header.contains("CPU 25.0%"))

        let source = try #require(line(screen, startingWith: "source"))
        #expect(source.contains("in 1500 rec/s  0.75 MB/s"))
        #expect(source.contains("lag 123"))
        #expect(source.contains("partitions 2 assigned, 0 paused"))
        #expect(source.contains("rebalances 3"))

        let spool = try #require(line(screen, startingWith: "spool"))
        #expect(spool.contains("used 1.0 GiB / 4.0 GiB (25.0%)"))
        #expect(spool.contains("records 4200"))
        #expect(spool.contains("oldest 3m12s"))
        #expect(spool.contains("dead letters 7"))
        #expect(spool.hasSuffix("FULL"))

        #expect(row(screen, "SINK") == ["SINK", "REC/S", "MB/S", "BACKLOG", "RETRY/S", "FAIL/S", "DEAD", "IN-FLIGHT", "UP"])
        #expect(row(screen, "splunk") == ["splunk", "1200", "0.60", "300", "5.0", "1.0", "4", "3/8", "2/3"])
        #expect(row(screen, "s3-archive") == ["s3-archive", "300", "3.00", "1200", "0", "0", "0", "1/4", "-"])

        // Right-aligned columns: every table line ends at the same column.
        let tableLines = screen.split(separator: "\n").drop { !$0.hasPrefix("SINK") }
        #expect(tableLines.count == 3)
        #expect(Set(tableLines.map(\.count)).count == 1)
        // Sinks are sorted by name.
        #expect(tableLines.dropFirst().first?.hasPrefix("s3-archive") == true)
    }

    @Test func ratesScaleWithElapsedTime() throws {
        let previous = try snapshot(exposition(t: 0))
        let current = try snapshot(exposition(t: 1), after: 2)
        let screen = StatusView.render(previous: previous, current: current, adminURL: url)
        #expect(line(screen, startingWith: "source")?.contains("in 750 rec/s  0.38 MB/s") == true)
        #expect(row(screen, "splunk")?[1] == "600")
        #expect(line(screen, startingWith: "spool")?.contains("FULL") == false)
    }

    @Test func withoutPreviousSnapshotRatesAreDashes() throws {
        let screen = StatusView.render(previous: nil, current: try snapshot(exposition(t: 1)), adminURL: url)
        #expect(line(screen, startingWith: "logbridge status")?.hasSuffix("CPU -") == true)
        #expect(line(screen, startingWith: "source")?.contains("in - rec/s  - MB/s") == true)
        #expect(row(screen, "splunk") == ["splunk", "-", "-", "300", "-", "-", "4", "3/8", "2/3"])
    }

    @Test func missingMetricsRenderAsDashes() throws {
        let empty = StatusSnapshot(samples: [], at: t0)
        let screen = StatusView.render(previous: empty, current: empty, adminURL: url)
        #expect(screen.contains("version -"))
        #expect(screen.contains("group -"))
        #expect(screen.contains("lag -"))
        #expect(screen.contains("used - / -"))
        #expect(screen.contains("oldest -"))
        #expect(screen.contains("(no sinks reported)"))

        // A sink known only through its backlog gauge still gets a row.
        let partial = try snapshot("logbridge_sink_backlog_records{sink=\"kafka-out\"} 9\nlogbridge_spool_full 0")
        let partialScreen = StatusView.render(previous: partial, current: partial, adminURL: url)
        #expect(row(partialScreen, "kafka-out") == ["kafka-out", "-", "-", "9", "-", "-", "-", "-/-", "-"])
        #expect(!partialScreen.contains("FULL"))
        #expect(!partialScreen.contains("(no sinks reported)"))
    }

    @Test func revokedPartitionAndCounterResetDoNotSpike() throws {
        let before = try snapshot("""
            logbridge_source_records_total{topic="t",partition="0"} 1000
            logbridge_source_records_total{topic="t",partition="1"} 90000
            logbridge_sink_records_delivered_total{sink="a"} 5000
            """)
        // Partition 1 was revoked; sink `a` restarted its counter.
        let after = try snapshot("""
            logbridge_source_records_total{topic="t",partition="0"} 1100
            logbridge_sink_records_delivered_total{sink="a"} 40
            """, after: 1)
        let screen = StatusView.render(previous: before, current: after, adminURL: url)
        #expect(line(screen, startingWith: "source")?.contains("in 100 rec/s") == true)
        #expect(row(screen, "a")?[1] == "40.0")
    }

    @Test func truncatesToWidth() throws {
        let previous = try snapshot(exposition(t: 0))
        let current = try snapshot(exposition(t: 1), after: 1)
        let screen = StatusView.render(previous: previous, current: current, adminURL: url, width: 40)
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 40 })
        #expect(lines.contains { $0.count == 40 })

        let longName = String(repeating: "x", count: 60)
        let long = try snapshot("logbridge_sink_backlog_records{sink=\"\(longName)\"} 1")
        let longScreen = StatusView.render(previous: nil, current: long, adminURL: url, width: 0)
        #expect(longScreen.contains(String(repeating: "x", count: 23) + "…"))
        #expect(!longScreen.contains(String(repeating: "x", count: 24)))
    }

    @Test func jsonWithRates() throws {
        let previous = try snapshot(exposition(t: 0))
        let current = try snapshot(exposition(t: 1, spoolFull: true), after: 1)
        let json = StatusView.json(current: current, previous: previous)
        #expect(!json.contains("\n"))
        #expect(json.hasPrefix(
            #"{"source":{"records_per_s":1500,"bytes_per_s":750000,"lag":123,"assigned":2,"paused":0},"#
                + #""spool":{"used_bytes":1073741824,"max_bytes":4294967296,"records":4200,"oldest_age_s":192.4,"#
                + #""dead_letters":7,"full":true},"sinks":[{"name":"s3-archive","#))
        #expect(json.contains(
            #"{"name":"splunk","records_per_s":1200,"bytes_per_s":600000,"backlog":300,"retried_per_s":5,"#
                + #""failures_per_s":1,"dead_lettered":4,"in_flight":3,"concurrency_limit":8,"endpoints_up":2,"endpoints":3}"#))

        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let sinks = try #require(object["sinks"] as? [[String: Any]])
        #expect(sinks.map { $0["name"] as? String } == ["s3-archive", "splunk"])
        #expect(sinks[0]["endpoints"] is NSNull)
    }

    @Test func jsonWithoutPreviousHasNullRates() throws {
        let json = StatusView.json(current: try snapshot(exposition(t: 1)), previous: nil)
        #expect(json.contains(#""records_per_s":null,"bytes_per_s":null,"lag":123"#))
        #expect(json.contains(#""retried_per_s":null,"failures_per_s":null,"dead_lettered":4"#))
        #expect(json.contains(#""full":false"#))

        let empty = StatusView.json(current: StatusSnapshot(samples: [], at: t0), previous: nil)
        #expect(empty == #"{"source":{"records_per_s":null,"bytes_per_s":null,"lag":null,"assigned":null,"paused":null},"#
            + #""spool":{"used_bytes":null,"max_bytes":null,"records":null,"oldest_age_s":null,"dead_letters":null,"full":null},"#
            + #""sinks":[]}"#)
    }

    @Test func jsonEscapesNamesAndDropsNonFiniteNumbers() throws {
        let current = try snapshot(#"logbridge_sink_backlog_records{sink="we\"ird\\name"} NaN"#)
        let json = StatusView.json(current: current, previous: nil)
        #expect(json.contains(#""name":"we\"ird\\name","records_per_s":null,"bytes_per_s":null,"backlog":null"#))
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) is [String: Any])
    }

    @Test(arguments: [
        (nil, "-"), (-1, "-"), (0, "0s"), (45.9, "45s"), (192, "3m12s"), (605, "10m05s"),
        (3_900, "1h05m"), (97_200, "1d03h"),
    ] as [(Double?, String)])
    func ageFormatting(seconds: Double?, expected: String) {
        #expect(StatusView.formatAge(seconds) == expected)
    }

    @Test(arguments: [
        (nil, "-"), (0, "0"), (0.25, "0.25"), (42.5, "42.5"), (1_500, "1500"), (12_345, "12.3k"),
        (1_250_000, "1.25M"), (.nan, "NaN"),
    ] as [(Double?, String)])
    func rateFormatting(value: Double?, expected: String) {
        #expect(StatusView.formatRate(value) == expected)
    }
}

/// An endpoint's network fault, as `logbridge_sink_endpoint_fault` exposes it, on the screen and
/// in the JSON.
@Suite("StatusView endpoint faults")
struct StatusViewFaultTests {
    /// The splunk sink's third endpoint cannot be reached for its certificate; an earlier fault of
    /// the first reads 0 and is not shown.
    static let exposition = """
        logbridge_sink_backlog_records{sink="splunk"} 300
        logbridge_sink_endpoint_up{sink="splunk",endpoint="https://hec-1:8088"} 1
        logbridge_sink_endpoint_up{sink="splunk",endpoint="https://hec-3:8088/services"} 0
        logbridge_sink_endpoint_fault{sink="splunk",endpoint="https://hec-1:8088",fault="connection_refused"} 0
        logbridge_sink_endpoint_fault{sink="splunk",endpoint="https://hec-3:8088/services",fault="certificate_untrusted"} 1
        logbridge_sink_endpoint_fault{sink="splunk",endpoint="https://hec-3:8088/services",fault="some_future_fault"} 0
        """

    @Test func theScreenNamesTheFaultAndTheSettingToCheck() throws {
        let current = StatusSnapshot(samples: try PrometheusText.parse(Self.exposition), at: .now)
        let screen = StatusView.render(previous: nil, current: current, adminURL: "http://127.0.0.1:9464", width: 0)
        let lines = screen.split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.hasPrefix("! ") })
        #expect(lines[index] == "! splunk https://hec-3:8088: TLS certificate not trusted (no trusted CA issued it)", "origin only, no path")
        #expect(lines[index + 1] == "    set tls.ca_file to the PEM file of the CA that issued the server's certificate")
        #expect(lines.filter { $0.hasPrefix("! ") }.count == 1, "a fault that reads 0 is over")
        #expect(lines.firstIndex { $0.hasPrefix("splunk ") }! < index, "below the sink table")
    }

    @Test func theJSONListsEachCurrentFaultWithItsMessage() throws {
        let current = StatusSnapshot(samples: try PrometheusText.parse(Self.exposition), at: .now)
        let json = StatusView.json(current: current, previous: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let faults = try #require(object["endpoint_faults"] as? [[String: String]])
        #expect(faults == [[
            "sink": "splunk", "endpoint": "https://hec-3:8088", "fault": "certificate_untrusted",
            "message": "https://hec-3:8088: TLS certificate not trusted (no trusted CA issued it); set tls.ca_file to the PEM file of the CA that issued the server's certificate",
        ]])
        #expect(json.hasSuffix(#""endpoint_faults":[{"sink":"splunk","endpoint":"https://hec-3:8088","fault":"certificate_untrusted","message":"https://hec-3:8088: TLS certificate not trusted (no trusted CA issued it); set tls.ca_file to the PEM file of the CA that issued the server's certificate"}]}"#))

        // Without a current fault the key is left out: the object keeps its usual shape.
        let over = StatusView.json(
            current: StatusSnapshot(samples: try PrometheusText.parse(Self.exposition.replacingOccurrences(of: "} 1", with: "} 0")), at: .now),
            previous: nil)
        #expect(!over.contains("endpoint_faults"))
    }
}
