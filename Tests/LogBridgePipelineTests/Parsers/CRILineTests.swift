import Testing
@testable import LogBridgeCore
@testable import LogBridgePipeline

@Suite("CRI log lines")
struct CRILineTests {
    typealias S = ParserTestSupport

    func parts(_ text: String) -> (time: String, stream: String, partial: Bool, message: String)? {
        let bytes = Array(text.utf8)
        guard let line = bytes.withUnsafeBytes({ CRILine.parse($0) }) else { return nil }
        func s(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }
        return (s(line.time), s(line.stream), line.isPartial, s(line.message))
    }

    @Test func fullLineOnStdout() throws {
        let p = try #require(parts("2026-11-21T10:15:30.123456789Z stdout F hello world\n"))
        #expect(p.time == "2026-11-21T10:15:30.123456789Z")
        #expect(p.stream == "stdout")
        #expect(p.partial == false)
        #expect(p.message == "hello world")
    }

    @Test func partialLineOnStderr() throws {
        let p = try #require(parts("2026-11-21T10:15:30.123456789+01:00 stderr P first half "))
        #expect(p.stream == "stderr")
        #expect(p.partial)
        #expect(p.message == "first half ")
    }

    @Test func messageKeepsInnerSpacesAndOnlyOneNewlineIsStripped() throws {
        let p = try #require(parts("2026-11-21T10:15:30Z stdout F   indented\n\n"))
        #expect(p.message == "  indented\n")
    }

    @Test func missingTagIsTheOldFormatAndAFullLine() throws {
        let p = try #require(parts("2026-11-21T10:15:30.1Z stdout hello"))
        #expect(p.partial == false)
        #expect(p.message == "hello")
        // A message that merely starts with P or F is not a tag.
        #expect(parts("2026-11-21T10:15:30Z stdout Fine day")?.message == "Fine day")
    }

    @Test func tagWithAttributes() throws {
        let p = try #require(parts("2026-11-21T10:15:30Z stdout P:x=1 msg"))
        #expect(p.partial)
        #expect(p.message == "msg")
    }

    @Test func emptyMessages() throws {
        #expect(parts("2026-11-21T10:15:30Z stdout F")?.message == "")
        #expect(parts("2026-11-21T10:15:30Z stdout F ")?.message == "")
        #expect(parts("2026-11-21T10:15:30Z stdout F\n")?.message == "")
        #expect(parts("2026-11-21T10:15:30Z stderr P")?.partial == true)
        #expect(parts("2026-11-21T10:15:30Z stdout")?.message == "")
    }

    @Test(arguments: [
        "", "\n", "hello world", "2026-11-21 stdout F x", "2026-11-21T10:15:30Z stdin F x",
        "2026-11-21T10:15:30Z stdoutF x", "2026-11-21T10:15:30Z  stdout F x", "2026-11-21T10:15:30Q stdout F x",
        "{\"log\":\"x\",\"stream\":\"stdout\"}", "2026-11-21T10:15:30Z", "2026-11-21T10:15:30Z std",
    ])
    func garbageIsNotCRI(_ text: String) {
        #expect(S.cri(text) == nil)
    }

    @Test func tenMegabyteMessageParsesWithoutScanningIt() throws {
        var bytes = Array("2026-11-21T10:15:30Z stdout F ".utf8)
        let prefix = bytes.count
        bytes += [UInt8](repeating: 0x61, count: 10 << 20)
        bytes.append(0x0A)
        let line = try #require(bytes.withUnsafeBytes { CRILine.parse($0) })
        #expect(line.message == prefix..<(prefix + (10 << 20)))
        // A 10 MB line without spaces is rejected after a bounded look.
        let garbage = [UInt8](repeating: 0x32, count: 10 << 20)
        #expect(garbage.withUnsafeBytes { CRILine.parse($0) } == nil)
    }

    @Test func timeFieldFeedsTheTimestampParser() throws {
        let text = "2026-11-21T10:15:30.123Z stdout F x"
        let bytes = Array(text.utf8)
        let line = try #require(bytes.withUnsafeBytes { CRILine.parse($0) })
        let ns = bytes.withUnsafeBytes { TimestampParser.parseISO8601(UnsafeRawBufferPointer(rebasing: $0[line.time])) }
        #expect(ns == S.referenceSeconds(2026, 11, 21, 10, 15, 30) * 1_000_000_000 + 123_000_000)
    }
}
