import LogBridgeCore
import Testing

@testable import LogBridgePipeline

@Suite struct EventTests {
    @Test func unchangedEventIsWrittenAsItCame() throws {
        let text = #"{ "log": "hello",  "n": 1 }"#
        let event = Event(text)
        #expect(event.string(at: try FieldPath("log")) == "hello")
        #expect(event.text == text)
    }

    @Test func setCreatesObjectsAndKeepsUntouchedSubtreesVerbatim() throws {
        let event = Event(#"{"kubernetes":{"pod_name":"a", "labels":{"app":"x"}},"log":"hi"}"#)
        event.set(try FieldPath("parsed.level"), .string(UnsafeRawBufferPointer(start: nil, count: 0)))
        let level = Array("warn".utf8)
        level.withUnsafeBytes { event.set(try! FieldPath("parsed.level"), .string($0)) }
        #expect(event.text == #"{"kubernetes":{"pod_name":"a", "labels":{"app":"x"}},"log":"hi","parsed":{"level":"warn"}}"#)
    }

    @Test func stringsAreEscapedAndUnescaped() throws {
        let event = Event(#"{"log":"a \"quoted\"\nline \u00e9"}"#)
        #expect(event.string(at: try FieldPath("log")) == "a \"quoted\"\nline é")
        let raw = Array("tab\there \"q\"".utf8)
        raw.withUnsafeBytes { event.set(try! FieldPath("x"), .string($0)) }
        #expect(event.text == #"{"log":"a \"quoted\"\nline \u00e9","x":"tab\there \"q\""}"#)
    }

    @Test func setJSONParsesIntoTargetOrMergesIntoRoot() throws {
        let event = Event(#"{"log":"x","level":"info"}"#)
        let inner = Array(#"{"level":"error","user":{"id":7}}"#.utf8)
        #expect(inner.withUnsafeBytes { event.setJSON(.root, json: $0) })
        #expect(event.text == #"{"log":"x","level":"error","user":{"id":7}}"#)
        let bad = Array(#"{"level":"#.utf8)
        #expect(!bad.withUnsafeBytes { event.setJSON(try! FieldPath("p"), json: $0) })
        #expect(event.text == #"{"log":"x","level":"error","user":{"id":7}}"#)
    }

    @Test func renameRemoveKeep() throws {
        let event = Event(#"{"a":{"b":1,"c":2},"d":"x","e":[1,2]}"#)
        #expect(event.rename(try FieldPath("a.b"), to: try FieldPath("f.g")))
        #expect(event.remove(try FieldPath("d")))
        #expect(!event.remove(try FieldPath("missing")))
        #expect(event.text == #"{"a":{"c":2},"e":[1,2],"f":{"g":1}}"#)
        event.keepOnly([try FieldPath("f"), try FieldPath("a.c")])
        #expect(event.text == #"{"a":{"c":2},"f":{"g":1}}"#)
    }

    @Test func textRecordsReadAsMessage() throws {
        let event = Event("plain text line")
        #expect(!event.isJSONObject)
        #expect(event.string(at: try FieldPath("message")) == "plain text line")
        #expect(event.text == "plain text line")
        event.set(try FieldPath("level"), .bool(true))
        #expect(event.text == #"{"message":"plain text line","level":true}"#)
    }

    @Test func quotedPathComponents() throws {
        let path = try FieldPath(#"labels."app.kubernetes.io/name""#)
        #expect(path.components.map { String(decoding: $0, as: UTF8.self) } == ["labels", "app.kubernetes.io/name"])
        let event = Event(#"{"labels":{"app.kubernetes.io/name":"web"}}"#)
        #expect(event.string(at: path) == "web")
        #expect(throws: PipelineError.self) { try FieldPath("a..b") }
        #expect(throws: PipelineError.self) { try FieldPath(#""open"#) }
    }

    @Test func deepNestingAndInvalidUTF8AreTextNotCrashes() throws {
        let deep = String(repeating: "[", count: 100_000)
        let event = Event(#"{"a":"# + deep + "}")
        #expect(!event.isJSONObject)
        var bytes = Array(#"{"log":"bad "#.utf8)
        bytes += [0xFF, 0xFE]
        bytes += Array(#""}"#.utf8)
        let invalid = Event()
        bytes.withUnsafeBytes { invalid.load($0, timeNanos: -1) }
        #expect(!invalid.isJSONObject)
    }
}
