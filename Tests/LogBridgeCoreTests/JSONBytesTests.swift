import LogBridgeCore
import Testing

@Suite struct JSONBytesTests {
    func valid(_ text: String) -> Bool {
        Array(text.utf8).withUnsafeBytes { JSONBytes.isValid($0) }
    }

    @Test(arguments: [
        #"{"a":1}"#, #"[1,2.5e3,-0.1,true,false,null]"#, #"  {"nested":{"x":["y",{"z":"\u00e9\n"}]}}  "#, #""é""#, "0",
    ])
    func acceptsValidJSON(_ text: String) { #expect(valid(text)) }

    @Test(arguments: [
        "", "{", #"{"a":}"#, #"{"a":1,}"#, "[1 2]", "01", "1.", "\"tab\tinside\"", #""\x""#, "nul", #"{"a":1} x"#, "plain text",
    ])
    func rejectsInvalidJSON(_ text: String) { #expect(!valid(text)) }

    @Test func rejectsInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(!bytes.withUnsafeBytes { JSONBytes.isValid($0) })
    }

    /// Fuzzing found `lookup` looping forever on a bracket closed by the wrong kind
    /// (Fuzz/Corpus/json/lookup-mismatched-bracket, the first input): one malformed record or
    /// HTTP answer hung the sink thread reading a field of it. Malformed means nil, promptly.
    @Test(.timeLimit(.minutes(1)), arguments: [#"{"":[}"#, #"{"a":[1,}],"log":2}"#, #"{"a":{"b":]},"log":1}"#])
    func lookupGivesUpOnMismatchedBrackets(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { JSONBytes.lookup(["log"], in: $0) == nil })
        #expect(bytes.withUnsafeBytes { JSONBytes.lookup(["a", "b"], in: $0) == nil })
        #expect(!bytes.withUnsafeBytes { JSONBytes.hasTopLevelKey("log", in: $0) })
    }

    @Test func escapesStringsIntoValidJSON() {
        var out: [UInt8] = []
        let input: [UInt8] = Array("quote\" back\\ nl\n tab\t bell\u{07} é".utf8) + [0xFF]
        input.withUnsafeBytes { JSONBytes.appendString($0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == #""quote\" back\\ nl\n tab\t bell\u0007 é\#u{FFFD}""#)
        #expect(out.withUnsafeBytes { JSONBytes.isValid($0) })
    }

    @Test func formatsIntegersAndTimestamps() {
        var out: [UInt8] = []
        JSONBytes.appendInteger(-9_223_372_036_854_775_807, to: &out)
        out.append(32)
        JSONBytes.appendInteger(0, to: &out)
        out.append(32)
        JSONBytes.appendUnsigned(18_446_744_073_709_551_615, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "-9223372036854775807 0 18446744073709551615")
        #expect(Timestamp.rfc3339(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(millis: 951_782_400_999) == "2000-02-29T00:00:00.999Z")
        #expect(Timestamp.rfc3339(millis: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func parsesSizesAndDurations() {
        #expect(ByteSize.parse("10GiB") == 10 << 30)
        #expect(ByteSize.parse("512 MiB") == 512 << 20)
        #expect(ByteSize.parse("1.5MB") == 1_500_000)
        #expect(ByteSize.parse("12 parsecs") == nil)
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("1m30s") == .seconds(90))
        #expect(DurationText.parse("soon") == nil)
        #expect(ByteSize.format(10 << 30) == "10GiB")
    }
}
