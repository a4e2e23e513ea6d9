import LogBridgeCore
import LogBridgeTestSupport
import Testing

@testable import LogBridgePipeline

@Suite struct CRIReassemblyTests {
    typealias S = PipelineTestSupport

    static func record(_ pod: String, _ tag: String, _ message: String, stream: String = "stdout") -> String {
        #"{"log":"2026-11-21T10:00:00.5Z \#(stream) \#(tag) \#(message)","kubernetes":{"namespace_name":"shop","pod_name":"\#(pod)","container_name":"app"}}"#
    }

    static let cri = ProcessorConfiguration.cri(CRIOptions(
        field: S.path("log"), streamField: S.path("stream"), keyFields: CRIOptions.defaultKeyFields.map(S.path)))

    @Test func partialLinesJoinPerContainerAndStream() throws {
        let pipeline = try S.pipeline([Self.cri])
        let lines = [
            Self.record("a", "P", "first half, "),
            Self.record("b", "F", "whole line from b"),
            Self.record("a", "P", "second part, "),
            Self.record("a", "F", "end."),
        ]
        let output = pipeline.process(S.batch(lines))
        #expect(!output.held)
        #expect(output.batch.nextSequence == 4)
        let texts = S.texts(output.batch)
        #expect(texts.count == 2)
        #expect(texts[0].hasPrefix(#"{"log":"whole line from b","#))
        #expect(texts[1].hasPrefix(#"{"log":"first half, second part, end.","#))
        #expect(texts[1].hasSuffix(#","stream":"stdout"}"#))
        // The joined event leaves with the record of its last fragment (its offset is the id).
        #expect(output.batch.records.map(\.offset) == [1, 3])
        #expect(output.batch.records[1].timestampMs == 1_795_255_200_500)
    }

    @Test func anUnfinishedLineCutsTheWindowSoNothingIsDeliveredTwice() throws {
        let pipeline = try S.pipeline([Self.cri])
        let first = pipeline.process(S.batch([
            Self.record("a", "F", "one"), Self.record("a", "P", "tw"), Self.record("b", "F", "three"),
        ]))
        #expect(first.held)
        #expect(first.batch.nextSequence == 1)  // the cursor stops before the waiting fragment
        #expect(S.texts(first.batch).count == 1)
        // The next window starts at the fragment and now has its end.
        let second = pipeline.process(S.batch([
            Self.record("a", "P", "tw"), Self.record("b", "F", "three"), Self.record("a", "F", "o"),
        ], firstSequence: 1))
        #expect(!second.held)
        #expect(second.batch.nextSequence == 4)
        let texts = S.texts(second.batch)
        #expect(texts.count == 2)
        #expect(texts[0].hasPrefix(#"{"log":"three","#))
        #expect(texts[1].hasPrefix(#"{"log":"two","#))
    }

    /// Fuzzing found a line joined across the window's cut losing its beginning
    /// (Fuzz/Corpus/cri/line-joined-across-the-cut, these records): with pod-1's line still open at
    /// record 1, the cut fell there, pod-0's joined line at record 2 was held back, and the next
    /// window read its `F` without the `P` of record 0 (here: without the time the `P` carried).
    @Test func aLineJoinedAcrossTheCutIsReadAgainWhole() throws {
        func record(_ line: String, pod: Int) -> String {
            #"{"log":"\#(line)","kubernetes":{"namespace_name":"shop","pod_name":"pod-\#(pod)","container_name":"app"}}"#
        }
        let lines = [
            record("2026-11-21T10:00:00.1 stdout P", pod: 0), record("2026-11-21T10:00:03Z stdout P", pod: 1),
            record("2026-11-21T10:00:000 stdout", pod: 0),
        ]
        let whole = try S.pipeline([Self.cri]).process(S.batch(lines, timestampMs: -1), flush: true).batch

        let pipeline = try S.pipeline([Self.cri])
        let first = pipeline.process(S.batch(lines, timestampMs: -1))
        #expect(first.held)
        #expect(first.batch.nextSequence == 0, "the cut moves back to pod-0's first fragment")
        #expect(first.batch.isEmpty)
        let again = pipeline.process(S.batch(lines, timestampMs: -1), flush: true).batch
        #expect(S.texts(again) == S.texts(whole))
        #expect(again.records.map(\.timestampMs) == whole.records.map(\.timestampMs))
        #expect(whole.records.count == 2 && whole.records[1].timestampMs >= 0, "pod-0's line has the time of its first fragment")

        // Readable: pod a's line joins across pod b's open one and is delivered once, whole.
        let readable = [Self.record("a", "P", "first "), Self.record("b", "P", "open"), Self.record("a", "F", "end")]
        let held = pipeline.process(S.batch(readable))
        #expect(held.batch.nextSequence == 0 && held.batch.isEmpty)
        let flushed = S.texts(pipeline.process(S.batch(readable), flush: true).batch)
        #expect(flushed.count == 2)
        #expect(flushed[1].hasPrefix(#"{"log":"first end","#))
    }

    /// Fuzzing found a character split between a `P` fragment and the next (the runtime splits
    /// long lines at a byte count) leaving as three U+FFFD instead of itself
    /// (Fuzz/Corpus/cri/utf8-split-across-fragments, these lines).
    @Test func aCharacterSplitBetweenFragmentsIsJoinedWhole() throws {
        let lines: [[UInt8]] = [
            Array(Array("2026-11-21T10:00:00Z stdout P 日本".utf8).dropLast()),
            Array("2026-11-21T10:00:00Z stdout F ".utf8) + [0xAC] + Array("語".utf8),
        ]
        let pipeline = try S.pipeline([.cri(CRIOptions(field: S.path("log"), streamField: S.path("stream"), setTime: false))])
        let output = pipeline.process(Self.batch(lines), flush: true)
        #expect(S.texts(output.batch) == [#"{"message":"日本語","stream":"stdout"}"#])
    }

    /// Fuzzing found a record that starts like a JSON object but is not one read as JSON by the
    /// joiner and as text by the event (Fuzz/Corpus/cri/record-that-is-not-json, this record): it
    /// left as invalid JSON holding only the CRI message. It is text, and not a CRI line.
    @Test func aRecordThatIsNotJSONPassesThroughUnchanged() throws {
        let record = Array(#"{"log":"2026-11-21T10:00:000 stdout "#.utf8) + [0xFB, 0x22]
        let pipeline = try S.pipeline([Self.cri])
        let output = pipeline.process(Self.batch([record]), flush: true)
        #expect(output.batch.records.count == 1)
        #expect(output.batch.records.map { Array(output.batch.bytes[$0.value]) } == [record])
    }

    /// Records from raw bytes (the fuzzer's inputs are not always UTF-8).
    static func batch(_ lines: [[UInt8]]) -> RecordBatch { RecordBatches.values(lines, timestampMs: -1) }

    @Test func flushTimeoutAndFullWindowsSendPartialLinesMarked() throws {
        let pipeline = try S.pipeline([.cri(CRIOptions(field: S.path("log"), keyFields: [], flushTimeout: .seconds(5)))])
        let window = S.batch([Self.record("a", "P", "never finished")])
        let start = ContinuousClock.now
        let held = pipeline.process(window, now: start)
        #expect(held.held && held.batch.isEmpty && held.batch.nextSequence == 0)
        let stillHeld = pipeline.process(window, now: start + .seconds(2))
        #expect(stillHeld.held)
        let flushed = pipeline.process(window, now: start + .seconds(6))
        #expect(!flushed.held)
        #expect(S.texts(flushed.batch) == [#"{"log":"never finished","kubernetes":{"namespace_name":"shop","pod_name":"a","container_name":"app"},"cri_partial":true}"#])
    }

    @Test func maxBytesBoundsAJoinedLine() throws {
        let pipeline = try S.pipeline([.cri(CRIOptions(field: S.path("message"), keyFields: [], maxBytes: 1024))])
        let fragment = String(repeating: "x", count: 600)
        let lines = (0..<5).map { _ in "2026-11-21T10:00:00Z stdout P \(fragment)" } + ["2026-11-21T10:00:00Z stdout F end"]
        let output = pipeline.process(S.batch(lines))
        let texts = S.texts(output.batch)
        #expect(texts.count == 3)
        #expect(texts[0].contains("\"cri_partial\":true"))
        #expect(texts[0].utf8.count < 1400)
        #expect(texts[2].contains("end"))
    }

    @Test func textRecordsAndAlreadySplitTags() throws {
        let text = try S.run(
            [.cri(CRIOptions(field: S.path("log"), streamField: S.path("stream"), keyFields: []))],
            ["2026-11-21T10:00:00Z stderr P a \"quoted\" ", "2026-11-21T10:00:01Z stderr F tail", "not a cri line"])
        #expect(text == [#"{"message":"a \"quoted\" tail","stream":"stderr"}"#, "not a cri line"])
        let tagged = try S.run(
            [.cri(CRIOptions(field: S.path("log"), tagField: S.path("logtag"), keyFields: []))],
            [#"{"log":"abc","logtag":"P"}"#, #"{"log":"def","logtag":"F"}"#])
        #expect(tagged == [#"{"log":"abcdef","logtag":"F"}"#])
    }

    @Test func tenMegabyteLineOfFragmentsStaysBounded() throws {
        let pipeline = try S.pipeline([.cri(CRIOptions(field: S.path("message"), keyFields: []))])
        let fragment = "2026-11-21T10:00:00Z stdout P " + String(repeating: "y", count: 16 * 1024)
        let lines = Array(repeating: fragment, count: 640) + ["2026-11-21T10:00:00Z stdout F end"]
        let start = ContinuousClock.now
        let output = pipeline.process(S.batch(lines))
        #expect(ContinuousClock.now - start < .seconds(20))
        // 10 MB of fragments leave in pieces of about max_bytes (1 MiB), never as one 10 MB event.
        #expect(output.batch.records.count >= 10)
        #expect(S.texts(output.batch).allSatisfy { $0.utf8.count < (1 << 20) + 64 * 1024 })
    }
}
