import Foundation
import LogBridge
import LogBridgeCore
import LogBridgeSpool
import Testing

/// Issue 15, item 8: no configuration value can crash the process. Every duration, size and
/// count key is fed extreme values through the real loader (`LogBridgeConfiguration.parse`, what
/// `check`, `run` and a SIGHUP reload call); each must end in a ``ConfigurationError`` that names
/// the key, never in a trap. Before the fix, `9999999999999999h` trapped in `DurationText.parse`
/// and `source.kafka.max_record_bytes: 4611686018427387904` in the `4 x` check.
@Suite struct ConfigurationHostileValueTests {
    /// One document with every sink type, the processors with numeric options and an admin
    /// section; `«key»` placeholders take each key's valid value unless a test overrides it.
    static let template = """
        source:
          kafka:
            brokers: ["127.0.0.1:9092"]
            topics: ["logs"]
            max_record_bytes: «source.kafka.max_record_bytes»
        spool:
          path: /tmp/logbridge-hostile
          max_bytes: «spool.max_bytes»
          high_watermark: «spool.high_watermark»
          low_watermark: «spool.low_watermark»
        pipeline:
          - type: cri
            max_bytes: «pipeline[0].max_bytes»
            flush_timeout: «pipeline[0].flush_timeout»
          - type: metrics
            metrics:
              - name: app_errors_total
                type: counter
                max_series: «pipeline[1].metrics[0].max_series»
          - type: redact
            mode: hash
            hash_key: "0123456789abcdef0123456789abcdef"
            hash_length: «pipeline[2].hash_length»
        sinks:
          es:
            type: elasticsearch
            endpoints: ["https://es1:9200"]
            batch_size: «sinks.es.batch_size»
            max_batch_bytes: «sinks.es.max_batch_bytes»
            interval: «sinks.es.interval»
            max_backoff: «sinks.es.max_backoff»
            request_timeout: «sinks.es.request_timeout»
            concurrency: «sinks.es.concurrency»
            eject_after_failures: «sinks.es.eject_after_failures»
            ejection_time: «sinks.es.ejection_time»
          hec:
            type: splunk_hec
            endpoints: ["https://idx1:8088"]
            token: "00000000-0000-0000-0000-000000000000"
            ack_poll_interval: «sinks.hec.ack_poll_interval»
            ack_timeout: «sinks.hec.ack_timeout»
            max_pending_acks: «sinks.hec.max_pending_acks»
            concurrency: adaptive
            max_concurrency: «sinks.hec.max_concurrency»
          loki:
            type: loki
            endpoints: ["http://loki:3100"]
            labels: {job: logbridge}
            max_streams: «sinks.loki.max_streams»
        admin:
          listen: «admin.listen»
          max_connections: «admin.max_connections»
          idle_timeout: «admin.idle_timeout»
          request_timeout: «admin.request_timeout»
        shutdown_timeout: «shutdown_timeout»
        """

    enum Kind { case size, duration, count, fraction, address }

    /// Every numeric key: a valid value, the largest accepted value and the smallest refused
    /// one above it.
    static let keys: [(path: String, kind: Kind, valid: String, largest: String, tooLarge: String)] = [
        ("source.kafka.max_record_bytes", .size, "1MiB", "1GiB", "1073741825"),
        ("spool.max_bytes", .size, "1GiB", "16TiB", "17592186044417"),
        ("spool.high_watermark", .fraction, "0.9", "1", "1.01"),
        ("spool.low_watermark", .fraction, "0.7", "0.89", "0.99001"),
        ("pipeline[0].max_bytes", .size, "1MiB", "256MiB", "268435457"),
        ("pipeline[0].flush_timeout", .duration, "5s", "1h", "3600001ms"),
        ("pipeline[1].metrics[0].max_series", .count, "1000", "1000000", "1000001"),
        ("pipeline[2].hash_length", .count, "16", "64", "65"),
        ("sinks.es.batch_size", .count, "500", "1000000", "1000001"),
        ("sinks.es.max_batch_bytes", .size, "1MiB", "256MiB", "268435457"),
        ("sinks.es.interval", .duration, "1s", "1h", "3600001ms"),
        ("sinks.es.max_backoff", .duration, "30s", "1h", "3600001ms"),
        ("sinks.es.request_timeout", .duration, "30s", "1h", "3600001ms"),
        ("sinks.es.concurrency", .count, "4", "256", "257"),
        ("sinks.es.eject_after_failures", .count, "3", "1000", "1001"),
        ("sinks.es.ejection_time", .duration, "5s", "1h", "3600001ms"),
        ("sinks.hec.ack_poll_interval", .duration, "10s", "10m", "600001ms"),
        ("sinks.hec.ack_timeout", .duration, "300s", "24h", "86400001ms"),
        ("sinks.hec.max_pending_acks", .count, "1000", "100000", "100001"),
        ("sinks.hec.max_concurrency", .count, "16", "256", "257"),
        ("sinks.loki.max_streams", .count, "1000", "100000", "100001"),
        ("admin.listen", .address, "\"127.0.0.1:9180\"", "\"127.0.0.1:65535\"", "\"127.0.0.1:65536\""),
        ("admin.max_connections", .count, "32", "4096", "4097"),
        ("admin.idle_timeout", .duration, "30s", "24h", "86400001ms"),
        ("admin.request_timeout", .duration, "10s", "1h", "3600001ms"),
        ("shutdown_timeout", .duration, "30s", "24h", "86400001ms"),
    ]

    /// Values no key accepts: overflowing sizes and durations, numbers beyond Int64 and Double,
    /// negatives, NaN and infinities, and text that only looks numeric.
    static let hostile = [
        "-1", "-0.5", "99999999999999GiB", "9999999999999999h", "9223372036854775807h", "1e400", "1e400s", "1e400GiB",
        "18446744073709551616", "9223372036854775807", "-9223372036854775808", "99999999999999999999999999999999",
        "\"9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999ms\"",
        "\"9223372036854775807ns\"", "\"9223372036854775808ns\"", "\"2562048h\"",
        "NaN", ".nan", ".inf", "-.inf", "inf", "\"\"", "lots", "1..5s", "0x10", "\"1 2\"", "\"\\u0663s\"", "\"1e3ms\"",
        "\"8EiB\"", "\"9007199254740993TiB\"", "[1]", "{a: 1}",
    ]

    static func document(_ overrides: [String: String] = [:]) -> String {
        var text = template
        for key in keys {
            text = text.replacingOccurrences(of: "«\(key.path)»", with: overrides[key.path] ?? key.valid)
        }
        return text
    }

    func outcome(_ yaml: String) -> Result<LoadedConfiguration, ConfigurationError> {
        do {
            return .success(try LogBridgeConfiguration.parse(yaml: yaml, environment: [:]))
        } catch {
            return .failure(error)
        }
    }

    @Test func theTemplateIsValid() throws {
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.document(), environment: [:])
        #expect(loaded.configuration.sinks.count == 3)
    }

    @Test(arguments: ConfigurationHostileValueTests.keys.map(\.path))
    func everyHostileValueIsRefusedAtItsKey(_ path: String) {
        for value in Self.hostile {
            switch outcome(Self.document([path: value])) {
            case .success:
                Issue.record("\(path): \(value) was accepted")
            case .failure(let error):
                #expect(error.issues.map(\.path) == [path], "\(path): \(value) -> \(error)")
                #expect(error.issues.allSatisfy { $0.line != nil })
            }
        }
    }

    @Test(arguments: ConfigurationHostileValueTests.keys.filter { $0.kind != .fraction && $0.kind != .address }.map(\.path))
    func zeroIsRefusedWhereItWouldSpinOrMeanNothing(_ path: String) throws {
        let zeroAllowed = ["pipeline[0].flush_timeout", "sinks.es.interval", "shutdown_timeout"]
        let zero = Self.keys.first { $0.path == path }!.kind == .duration ? "0s" : "0"
        switch outcome(Self.document([path: zero])) {
        case .success:
            #expect(zeroAllowed.contains(path), "\(path): \(zero) was accepted")
        case .failure(let error):
            #expect(!zeroAllowed.contains(path), "\(error)")
            #expect(error.issues.map(\.path) == [path])
        }
    }

    @Test func theLargestAcceptedValuesLoadAndPrint() throws {
        var largest: [String: String] = [:]
        for key in Self.keys where key.path != "spool.low_watermark" { largest[key.path] = key.largest }
        // spool.max_bytes must stay at least 4 x max_record_bytes, and low below high.
        let loaded = try LogBridgeConfiguration.parse(yaml: Self.document(largest), environment: [:])
        let c = loaded.configuration
        #expect(c.spool.maxBytes == 16 << 40)
        #expect(c.spool.maxRecordBytes == 1 << 30)
        #expect(c.shutdownTimeout == .seconds(86_400))
        let printed = loaded.effectiveYAML()
        #expect(printed.contains("max_bytes: 16TiB"))
        #expect(printed.contains("shutdown_timeout: 24h"))
    }

    @Test(arguments: ConfigurationHostileValueTests.keys.map(\.path))
    func oneStepAboveTheLargestIsRefusedWithTheRange(_ path: String) {
        let key = Self.keys.first { $0.path == path }!
        switch outcome(Self.document([path: key.tooLarge])) {
        case .success:
            Issue.record("\(path): \(key.tooLarge) was accepted")
        case .failure(let error):
            #expect(error.issues.map(\.path) == [path], "\(error)")
            if key.kind == .size || key.kind == .duration || key.kind == .count {
                #expect(error.issues.first?.message.contains("between") == true, "\(error)")
            }
        }
    }

    @Test func watermarksRefuseNaNAndZeroHighWatermark() {
        for value in ["0", ".nan", "1e400", "-0.1"] {
            let found = (try? outcome(Self.document(["spool.high_watermark": value])).get()) == nil
            #expect(found, "high_watermark \(value)")
        }
    }

    @Test func moreTopicsThanTheSpoolCanIndexAreRefused() {
        let limit = SpoolConfiguration.maxTopics
        let many = (0...limit).map { "t\($0)" }.joined(separator: ", ")
        let yaml = Self.document().replacingOccurrences(of: "topics: [\"logs\"]", with: "topics: [\(many)]")
        guard case .failure(let error) = outcome(yaml) else {
            Issue.record("\(limit + 1) topics were accepted")
            return
        }
        #expect(error.issues.map(\.path) == ["source.kafka.topics"])
        #expect(error.issues.first?.message.contains("at most \(limit)") == true)
        // The limit counts distinct names: repeating one is not a problem.
        let repeated = (0...limit).map { _ in "logs" }.joined(separator: ", ")
        let same = Self.document().replacingOccurrences(of: "topics: [\"logs\"]", with: "topics: [\(repeated)]")
        #expect((try? outcome(same).get()) != nil)
    }

    @Test func theLoaderUsedByReloadRefusesAHostileFileWithoutTrapping() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logbridge-hostile-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("logbridge.yaml").path
        try Self.document(["shutdown_timeout": "9999999999999999h", "spool.max_bytes": "99999999999999GiB"])
            .write(toFile: file, atomically: true, encoding: .utf8)
        // `LogBridgeConfiguration.load(path:)` is what SIGHUP runs (Gateway/Reload.swift).
        do {
            _ = try LogBridgeConfiguration.load(path: file, environment: [:])
            Issue.record("accepted")
        } catch {
            #expect(Set(error.issues.map(\.path)) == ["shutdown_timeout", "spool.max_bytes"])
        }
    }

    @Test func sizeAndDurationParsersNeverTrap() {
        #expect(ByteSize.parse("99999999999999GiB") == nil)
        #expect(ByteSize.parse("8589934592GiB") == nil, "2^63 bytes")
        #expect(ByteSize.parse("8589934591GiB") == 8_589_934_591 << 30)
        #expect(ByteSize.parse("1e400") == nil)
        #expect(ByteSize.parse("99999999999999999999999999999.5TiB") == nil)
        #expect(ByteSize.parse("-1") == nil)
        #expect(ByteSize.parse("1.5KiB") == 1536)
        #expect(DurationText.parse("9999999999999999h") == nil)
        #expect(DurationText.parse("2562048h") == nil, "just over Int64.max nanoseconds")
        #expect(DurationText.parse("2562047h") == .seconds(2_562_047 * 3600))
        #expect(DurationText.parse("9223372036854775807ns") == .nanoseconds(Int64.max))
        #expect(DurationText.parse("9223372036854775807ns1ns") == nil, "the sum overflows")
        #expect(DurationText.parse("1e400s") == nil)
        #expect(DurationText.parse("99999999999999999999999999999.5s") == nil)
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("-1s") == nil)
        #expect(Duration.seconds(Int64.max).milliseconds == .max, "saturates")
        #expect(DurationText.format(.seconds(Int64.max)).isEmpty == false)
    }
}
