@testable import LogBridgeCore
import Testing

@testable import LogBridgePipeline

@Suite struct ProcessorTests {
    typealias S = PipelineTestSupport

    @Test func jsonMergesIntoRootOrTargetAndMarksBrokenJSON() throws {
        let lines = [
            #"{"log":"{\"level\":\"error\",\"user\":{\"email\":\"a@b.c\"}}","stream":"stdout"}"#,
            #"{"log":"plain text, left alone"}"#,
            #"{"log":"{\"broken\":"}"#,
        ]
        let merged = try S.run([.json(ParseJSONOptions(field: S.path("log"), removeSource: true))], lines)
        #expect(merged[0] == #"{"stream":"stdout","level":"error","user":{"email":"a@b.c"}}"#)
        #expect(merged[1] == lines[1])
        #expect(merged[2] == #"{"log":"{\"broken\":","pipeline_error":"json: log is not valid JSON"}"#)
        let targeted = try S.run([.json(ParseJSONOptions(field: S.path("log"), target: S.path("log_processed")))], [lines[0]])
        #expect(targeted[0].hasSuffix(#","log_processed":{"level":"error","user":{"email":"a@b.c"}}}"#))
    }

    @Test func regexNamedCapturesBecomeFields() throws {
        let out = try S.run(
            [.regex(RegexOptions(
                extract: ExtractOptions(field: S.path("log"), target: S.path("parsed")),
                pattern: #"^(?P<ip>\S+) \S+ \S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S+)[^"]*" (?P<status>\d{3})"#))],
            [#"{"log":"10.1.2.3 - - [21/Nov/2026:10:00:00 +0000] \"GET /healthz HTTP/1.1\" 200 12"}"#, #"{"log":"no match"}"#])
        #expect(out[0].hasSuffix(#""parsed":{"ip":"10.1.2.3","method":"GET","path":"/healthz","status":"200"}}"#))
        #expect(out[1] == #"{"log":"no match"}"#)
        #expect(throws: PipelineError.self) { try S.pipeline([.regex(RegexOptions(extract: ExtractOptions(field: S.path("log")), pattern: "(unclosed"))]) }
        #expect(throws: PipelineError.self) { try S.pipeline([.regex(RegexOptions(extract: ExtractOptions(field: S.path("log")), pattern: "no names"))]) }
    }

    @Test func logfmtKeyValueAndCSV() throws {
        let logfmt = try S.run([.logfmt(ExtractOptions(field: S.path("log")))], [#"{"log":"level=warn msg=\"disk almost full\" retry"}"#])
        #expect(logfmt[0] == #"{"log":"level=warn msg=\"disk almost full\" retry","level":"warn","msg":"disk almost full","retry":true}"#)
        let kv = try S.run(
            [.kv(KeyValueOptions(extract: ExtractOptions(field: S.path("message"), target: S.path("kv")), fieldSeparator: ";", valueSeparator: ":"))],
            ["user:alice;action:login"])
        #expect(kv[0] == #"{"message":"user:alice;action:login","kv":{"user":"alice","action":"login"}}"#)
        let csv = try S.run(
            [.csv(CSVOptions(extract: ExtractOptions(field: S.path("message")), columns: ["station", "date", "temp"], separator: UInt8(ascii: ";"), skipHeader: true))],
            ["station;date;temp", #"LFPG;21/11/2026 10:00;"7,5";extra"#])
        #expect(csv == [#"{"message":"LFPG;21/11/2026 10:00;\"7,5\";extra","station":"LFPG","date":"21/11/2026 10:00","temp":"7,5","column4":"extra"}"#])
    }

    @Test func convertTypesAndMarksFailuresWithoutTheValue() throws {
        let out = try S.run(
            [.convert([(S.path("a"), .int), (S.path("b"), .float), (S.path("c"), .bool), (S.path("d"), .string), (S.path("e"), .int)])],
            [#"{"a":" 42","b":"7.5","c":"yes","d":12,"e":"secret-value"}"#])
        #expect(out[0] == #"{"a":42,"b":7.5,"c":true,"d":"12","e":"secret-value","pipeline_error":"convert: e is not a valid int"}"#)
    }

    @Test func timestampSetsEventTimeFromPatternsAndZones() throws {
        let pipeline = try S.pipeline([.timestamp(TimestampOptions(
            field: S.path("date"), formats: [.iso8601, .pattern("%d/%m/%Y %H:%M")], timezone: try TimeZoneRule("+02:00"),
            target: S.path("@timestamp")))])
        let output = pipeline.process(S.batch([#"{"date":"21/11/2026 10:00"}"#, #"{"date":"2026-11-21T10:00:00Z"}"#, #"{"date":"never"}"#]), flush: true)
        let times = output.batch.records.map(\.timestampMs)
        #expect(times[0] == 1_795_255_200_000 - 2 * 3_600_000 + 0)  // 10:00 at +02:00 is 08:00 UTC
        #expect(times[1] == 1_795_255_200_000)
        #expect(times[2] == 1_795_000_000_000)  // unchanged: the record's own time
        let texts = S.texts(output.batch)
        #expect(texts[0].contains(#""@timestamp":"2026-11-21T08:00:00.000Z""#))
        #expect(texts[2].contains(#""pipeline_error":"timestamp: date matches none of the formats""#))
    }

    @Test func setRenameRemoveKeep() throws {
        let out = try S.run(
            [
                .set(field: S.path("env"), value: .string("prod"), onlyIfMissing: false),
                .set(field: S.path("n"), value: .number("3"), onlyIfMissing: false),
                .set(field: S.path("where"), value: .template("{k.ns}/{k.pod}"), onlyIfMissing: false),
                .set(field: S.path("level"), value: .string("info"), onlyIfMissing: true),
                .rename([(S.path("k.pod"), S.path("pod"))]),
                .remove([S.path("drop_me")]),
            ],
            [#"{"level":"error","k":{"ns":"shop","pod":"web-1"},"drop_me":1}"#])
        #expect(out[0] == #"{"level":"error","k":{"ns":"shop"},"env":"prod","n":3,"where":"shop/web-1","pod":"web-1"}"#)
        let kept = try S.run([.keep([S.path("k.pod"), S.path("level")])], [#"{"level":"error","k":{"ns":"shop","pod":"web-1"},"x":1}"#])
        #expect(kept[0] == #"{"level":"error","k":{"pod":"web-1"}}"#)
    }

    @Test func filterDropAndConditions() throws {
        let lines = [
            #"{"level":"error","status":503,"msg":"upstream timeout"}"#,
            #"{"level":"info","status":200,"msg":"ok"}"#,
            #"{"level":"debug","status":200}"#,
            #"{"level":"warn","status":404,"msg":"connection refused"}"#,
        ]
        let dropDebug = try S.run([.drop(.equals(S.path("level"), "debug"))], lines)
        #expect(dropDebug.count == 3)
        let keepErrors = try S.run([.filter(.or([.compare(S.path("status"), .gte, 500), .matches(S.path("msg"), "refused|timeout")]))], lines)
        #expect(keepErrors == [lines[0], lines[3]])
        let complex = try S.run(
            [.filter(.and([.oneOf(S.path("level"), ["info", "warn"]), .not(.exists(S.path("missing"), true)), .contains(S.path("msg"), "o")]))], lines)
        #expect(complex == [lines[1], lines[3]])
    }

    @Test func routesSelectSinks() throws {
        let shared: [ProcessorConfiguration] = [
            .route(rules: [RouteRule(when: .equals(S.path("ns"), "payments"), sinks: ["splunk"])], fallback: ["es", "loki"])
        ]
        let lines = [#"{"ns":"payments"}"#, #"{"ns":"web"}"#]
        let sinks = ["es", "splunk", "loki"]
        let splunk = try S.pipeline(shared, sink: "splunk", sinks: sinks).process(S.batch(lines), flush: true)
        let es = try S.pipeline(shared, sink: "es", sinks: sinks).process(S.batch(lines), flush: true)
        #expect(S.texts(splunk.batch) == [lines[0]])
        #expect(S.texts(es.batch) == [lines[1]])
        #expect(es.discarded == 1)
        #expect(es.batch.nextSequence == 2)
        #expect(throws: PipelineError.self) {
            try S.pipeline([.route(rules: [RouteRule(when: .exists(S.path("a"), true), sinks: ["nope"])], fallback: nil)], sink: "es", sinks: sinks)
        }
    }

    @Test func metricsFromEventsWithCardinalityCap() throws {
        let metrics = PipelineMetrics.exported()
        let definitions = [
            MetricDefinition(
                name: "app_errors_total", kind: .counter, labels: [.init(name: "namespace", field: S.path("ns"))],
                when: .equals(S.path("level"), "error"), maxSeries: 2),
            MetricDefinition(name: "request_seconds", kind: .histogram, valueField: S.path("duration"), buckets: [0.1, 1]),
        ]
        let pipeline = try S.pipeline([.metrics(definitions)], metrics: metrics)
        let lines = [
            #"{"ns":"a","level":"error","duration":0.05}"#, #"{"ns":"a","level":"error","duration":0.5}"#,
            #"{"ns":"b","level":"error","duration":3}"#, #"{"ns":"c","level":"error"}"#, #"{"ns":"a","level":"info"}"#,
        ]
        _ = pipeline.process(S.batch(lines), flush: true)
        #expect(metrics.value("app_errors_total", labels: ["namespace": "a"]) == 2)
        #expect(metrics.value("app_errors_total", labels: ["namespace": "b"]) == 1)
        #expect(metrics.value("app_errors_total", labels: ["namespace": "c"]) == nil)  // over max_series
        #expect(metrics.value("request_seconds") == 3)
        let text = metrics.render()
        #expect(text.contains(#"request_seconds_bucket{le="0.1"} 1"#))
        #expect(text.contains(#"request_seconds_bucket{le="1.0"} 2"#))
        #expect(text.contains(#"request_seconds_bucket{le="+Inf"} 3"#))
        #expect(text.contains(#"logbridge_pipeline_metric_series_dropped_total{metric="app_errors_total"} 1"#))
        // The same window again (a replay) counts nothing.
        _ = pipeline.process(S.batch(lines), flush: true, replay: true)
        #expect(metrics.value("app_errors_total", labels: ["namespace": "a"]) == 2)
    }

    /// The pipelines keep recording while the gateway's registry renders a scrape; each rendering
    /// is still well formed and the last one shows every count.
    @Test func renderingWhilePipelinesRecordLosesNothing() async {
        let metrics = PipelineMetrics.exported()
        let families = 20, perWriter = 2_000, writers = 4
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    for i in 0..<perWriter {
                        metrics.increment(
                            "family_\(i % families)_total", help: "test", labels: [("writer", "\(writer)")], by: 1)
                    }
                }
            }
            group.addTask {
                for _ in 0..<50 {
                    let text = metrics.render()
                    // A family is whole: its TYPE line comes before its samples, never torn.
                    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                        #expect(line.hasPrefix("family_") && line.contains("writer="))
                    }
                }
            }
        }
        let text = metrics.render()
        for family in 0..<families {
            for writer in 0..<writers {
                #expect(text.contains("family_\(family)_total{writer=\"\(writer)\"} \(perWriter / families)\n"))
            }
        }
    }
}
