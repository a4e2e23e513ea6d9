import Testing
@testable import LogBridge

@Suite("PrometheusText")
struct PrometheusTextTests {
    static let exposition = #"""
        # HELP logbridge_source_records_total Records received from Kafka.
        # TYPE logbridge_source_records_total counter
        logbridge_source_records_total{topic="logs",partition="0"} 1200
        logbridge_source_records_total{topic="logs",partition="1"} 800 1712345678901

        # a free-form comment
        # TYPE logbridge_sink_request_duration_seconds histogram
        logbridge_sink_request_duration_seconds_bucket{sink="splunk",endpoint="hec-1:8088",le="0.005"} 3
        logbridge_sink_request_duration_seconds_bucket{sink="splunk",endpoint="hec-1:8088",le="+Inf"} 10
        logbridge_sink_request_duration_seconds_sum{sink="splunk",endpoint="hec-1:8088"} 0.25
        logbridge_sink_request_duration_seconds_count{sink="splunk",endpoint="hec-1:8088"} 10
        weird_labels{path="C:\\logs\\app",quote="say \"hi\"",multi="a\nb",} 1
        gauge_nan NaN
        gauge_pos_inf +Inf
        gauge_neg_inf{a="b"} -Inf
        exp_value 1.5e-3 -42
        neg_exp -2E+2
        build_info{version="1.2.3"} 1
          	indented:metric	 7  
        empty_labels{} 5
        spaced { a = "x" , b="y" } 2
        """#

    @Test func parsesRealisticExposition() throws {
        let samples = try PrometheusText.parse(Self.exposition)
        #expect(samples.count == 16)
        #expect(samples[0] == PrometheusSample(name: "logbridge_source_records_total",
                                               labels: ["topic": "logs", "partition": "0"], value: 1200))
        #expect(samples[1].value == 800)
        #expect(samples.value("logbridge_sink_request_duration_seconds_bucket", ["le": "+Inf"]) == 10)
        #expect(samples.value("logbridge_sink_request_duration_seconds_sum") == 0.25)

        let weird = try #require(samples.first { $0.name == "weird_labels" })
        #expect(weird.labels == ["path": #"C:\logs\app"#, "quote": #"say "hi""#, "multi": "a\nb"])

        #expect(try #require(samples.value("gauge_nan")).isNaN)
        #expect(samples.value("gauge_pos_inf") == .infinity)
        #expect(samples.value("gauge_neg_inf", ["a": "b"]) == -.infinity)
        #expect(samples.value("exp_value") == 0.0015)
        #expect(samples.value("neg_exp") == -200)
        #expect(samples.value("indented:metric") == 7)
        #expect(samples.value("empty_labels") == 5)
        #expect(samples.value("spaced", ["a": "x", "b": "y"]) == 2)
    }

    @Test func arrayHelpers() throws {
        let samples = try PrometheusText.parse(Self.exposition)
        #expect(samples.sum("logbridge_source_records_total") == 2000)
        #expect(samples.sum("logbridge_source_records_total", where: ["partition": "1"]) == 800)
        #expect(samples.sum("no_such_metric") == 0)
        #expect(samples.value("logbridge_source_records_total", ["partition": "9"]) == nil)
        #expect(samples.value("no_such_metric") == nil)
        #expect(samples.labelValues("logbridge_source_records_total", label: "partition") == ["0", "1"])
        #expect(samples.labelValues("logbridge_sink_request_duration_seconds_bucket", label: "le") == ["+Inf", "0.005"])
        #expect(samples.labelValues("build_info", label: "missing") == [])
    }

    @Test func acceptsCRLFAndEmptyInput() throws {
        #expect(try PrometheusText.parse("").isEmpty)
        #expect(try PrometheusText.parse("\n\n# only comments\n").isEmpty)
        let samples = try PrometheusText.parse("a 1\r\nb{x=\"y\"} 2\r\n")
        #expect(samples == [PrometheusSample(name: "a", value: 1), PrometheusSample(name: "b", labels: ["x": "y"], value: 2)])
    }

    @Test(arguments: [
        ("ok 1\n9bad 1", 2, "metric name"),
        ("ok 1\nfoo-bar 1", 2, "metric name"),
        ("ok 1\nok 2\nmissing_value", 3, "missing value"),
        ("x{a=\"b\"}", 1, "missing value"),
        ("x{a=\"b\"}1", 1, "blank after"),
        ("x abc", 1, "invalid value"),
        ("x 1 12.5", 1, "invalid timestamp"),
        ("x 1 123 extra", 1, "unexpected text"),
        ("# c\n\nx{a=\"b} 1", 3, "unterminated label value"),
        ("x{a=\"b\" 1", 1, "expected ',' or '}'"),
        ("x{a=\"b\",", 1, "unterminated label set"),
        ("x{a=b} 1", 1, "expected '\"'"),
        ("x{a} 1", 1, "expected '='"),
        ("x{,} 1", 1, "label name"),
        ("x{a:b=\"c\"} 1", 1, "expected '='"),
        ("x{a=\"\\t\"} 1", 1, "invalid escape"),
        ("x{a=\"1\",a=\"2\"} 1", 1, "duplicate label"),
        ("a 1\nb 2\nc 3\nd 4\n{a=\"b\"} 5", 5, "metric name"),
    ])
    func rejectsMalformedLines(input: String, line: Int, fragment: String) {
        let error = #expect(throws: PrometheusParseError.self) {
            _ = try PrometheusText.parse(input)
        }
        #expect(error?.line == line)
        #expect(error?.message.contains(fragment) == true, "message: \(error?.message ?? "nil")")
    }

    @Test func errorDescriptionNamesLineAndColumn() {
        do {
            _ = try PrometheusText.parse("good 1\nbad 1 2 3")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.line == 2)
            #expect(error.description == "line 2: unexpected text after timestamp at column 9")
        }
    }
}
