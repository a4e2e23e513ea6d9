import LogBridgeCore
import Testing

@testable import LogBridgePipeline

/// Label values the `metrics` processor takes from events: bounded, valid UTF-8, one value per
/// label whatever the bytes, and escaped in the exposition.
@Suite struct MetricLabelValueTests {
    typealias S = PipelineTestSupport

    /// A counter labelled from two fields of the event (`ns` and `app` unless told).
    func run(_ lines: [[UInt8]], fields: (String, String) = ("ns", "app")) throws -> PipelineMetrics {
        let metrics = PipelineMetrics.exported()
        let definition = MetricDefinition(
            name: "events_total", kind: .counter,
            labels: [.init(name: "first", field: S.path(fields.0)), .init(name: "second", field: S.path(fields.1))])
        let pipeline = try S.pipeline([.metrics([definition])], metrics: metrics)
        var batch = S.batch([])
        for line in lines {
            let start = batch.bytes.count
            batch.bytes += line
            batch.records.append(RecordBatch.Record(
                sequence: UInt64(batch.records.count), topicIndex: 0, partition: 0, offset: Int64(batch.records.count),
                timestampMs: 0, key: nil, value: start..<batch.bytes.count))
        }
        batch.nextSequence = UInt64(batch.records.count)
        _ = pipeline.process(batch, flush: true)
        return metrics
    }

    @Test func aTenKiBValueIsCutToTheCapWithAMarker() throws {
        let long = String(repeating: "abcdefghij", count: 1024)
        let other = String(repeating: "abcdefghij", count: 1000) + "different tail"
        let metrics = try run([Array(#"{"ns":"\#(long)","app":"web"}"#.utf8), Array(#"{"ns":"\#(other)","app":"web"}"#.utf8)])
        let series = metrics.series("events_total")
        #expect(series.count == 1, "values that differ only past the cap share one series")
        let value = try #require(series.first?.labels.first)
        #expect(value.utf8.count == MetricLabelValue.maxBytes)
        #expect(value.hasSuffix("…"))
        #expect(long.hasPrefix(String(value.dropLast())))
        #expect(series.first?.labels.last == "web", "the next label is untouched")
        #expect(series.first?.value == 2)
    }

    @Test func multiByteCharactersAreNeverSplit() throws {
        for filler in ["é", "€", "😀", "a😀"] {
            let metrics = try run([Array(#"{"ns":"\#(String(repeating: filler, count: 3000))","app":"x"}"#.utf8)])
            let value = try #require(metrics.series("events_total").first?.labels.first)
            #expect(value.utf8.count <= MetricLabelValue.maxBytes)
            #expect(value.utf8.count > MetricLabelValue.maxBytes - 3 - 4, "\(filler): cut at the last whole character")
            #expect(!value.contains("\u{FFFD}"), "\(filler): no character was cut in half")
            #expect(value.dropLast().allSatisfy { filler.contains($0) })
        }
    }

    @Test func invalidUTF8AndTheSeparatorByteKeepEveryLabelInItsPlace() throws {
        // A line that is not JSON reads as {"message": line}, its bytes as they came. 0xFF
        // separates label values in a series key: raw, it would split this value in two and
        // shift the next label's value.
        let short = Array("a".utf8) + [0xFF, 0xFE, 0xC3] + Array("b".utf8)
        let long = Array(repeating: UInt8(0xFF), count: 10_000)
        let metrics = try run([short, long, short], fields: ("message", "missing"))
        let series = metrics.series("events_total")
        #expect(series.count == 2)
        #expect(series.first?.labels == ["a\u{FFFD}\u{FFFD}\u{FFFD}b", ""])
        #expect(series.first?.value == 2, "the same bytes make the same series")
        let cut = try #require(series.last)
        #expect(cut.labels.count == 2)
        #expect(cut.labels.last == "")
        #expect(cut.labels[0].utf8.count <= MetricLabelValue.maxBytes)
        #expect(cut.labels[0].hasSuffix("…"))
        let text = metrics.render()
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("events_total{") }.count == 2)
        #expect(String(validating: Array(text.utf8), as: UTF8.self) != nil)
    }

    @Test func valuesAreEscapedInTheExposition() throws {
        // JSON escapes give the field a real backslash, quote, newline and carriage return.
        let metrics = try run([Array(#"{"ns":"C:\\logs \"q\"\nnext\rend","app":"w"}"#.utf8)])
        let text = metrics.render()
        #expect(text.contains(#"events_total{first="C:\\logs \"q\"\nnext"#), "\(text)")
        let sample = try #require(text.split(separator: "\n").first { $0.hasPrefix("events_total{") })
        #expect(sample.hasSuffix(#"",second="w"} 1"#))
    }
}
