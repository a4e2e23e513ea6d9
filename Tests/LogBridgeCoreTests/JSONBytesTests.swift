import Foundation
import LogBridgeCore
import LogBridgeTestSupport
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

    /// The one pass the Elasticsearch builder makes per record: validity plus top-level members.
    @Test func isValidObjectNotesTopLevelMembersInTheSamePass() {
        let keys: [[UInt8]] = [Array("log".utf8), Array("@timestamp".utf8), Array("kubernetes".utf8)]
        func members(_ text: String) -> [String?]? {
            var found: [Range<Int>?] = [nil, nil, nil]
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { raw in
                guard JSONBytes.isValidObject(raw, noting: keys, into: &found) else { return nil }
                return found.map { $0.map { String(decoding: raw[$0], as: UTF8.self) } }
            }
        }
        #expect(members(#" {"x":{"log":"inner"},"log":"first","log":"second","kubernetes":{"ns":"a"}} "#)
            == [#""first""#, nil, #"{"ns":"a"}"#], "top level only, first occurrence, raw values")
        #expect(members(#"{"@timestamp":"2026-11-21T10:00:00Z","n":[1,2]}"#) == [nil, #""2026-11-21T10:00:00Z""#, nil])
        #expect(members("{}") == [nil, nil, nil])
        #expect(members(#"{"log":"a"} x"#) == nil, "trailing bytes")
        #expect(members(#"{"log":"a",}"#) == nil)
        #expect(members(#"["log"]"#) == nil, "valid JSON, but not an object")
        #expect(members(#""log""#) == nil)
        // Slots from an earlier record never leak into the next one.
        var found: [Range<Int>?] = [0..<1, 0..<1, 0..<1]
        #expect(Array(#"{"a":1}"#.utf8).withUnsafeBytes { JSONBytes.isValidObject($0, noting: keys, into: &found) })
        #expect(found == [nil, nil, nil])
    }

    @Test func lookupSkipsLongStringsAndEscapedQuotes() {
        let long = String(repeating: "abcdefgh", count: 9)
        let text = #"{"\#(long)":"\#(long)\"\\\"x\#(long)","k\"ey":"no","key":"\#(long)yes"}"#
        let found = Array(text.utf8).withUnsafeBytes { JSONBytes.lookup(["key"], in: $0).map { String(decoding: $0, as: UTF8.self) } }
        #expect(found == long + "yes")
        func unquoted(_ raw: String) -> String { Array(raw.utf8).withUnsafeBytes { String(decoding: JSONBytes.unquoted($0), as: UTF8.self) } }
        #expect(unquoted(#""abc""#) == "abc")
        #expect(unquoted("12") == "12")
        #expect(unquoted(#"""#) == #"""#, "one quote is not a string")
    }

    @Test func escapesStringsIntoValidJSON() {
        var out: [UInt8] = []
        let input: [UInt8] = Array("quote\" back\\ nl\n tab\t bell\u{07} é".utf8) + [0xFF]
        input.withUnsafeBytes { JSONBytes.appendString($0, to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == #""quote\" back\\ nl\n tab\t bell\u0007 é\#u{FFFD}""#)
        #expect(out.withUnsafeBytes { JSONBytes.isValid($0) })
    }

    /// Escaping skips plain bytes eight at a time and stages its output in 512-byte chunks:
    /// specials at every position around those words and chunk ends, plain runs longer than a
    /// chunk, valid UTF-8 and not, all come out as a JSON string that decodes to the input.
    @Test func escapedStringsDecodeToTheirInputWhereverTheSpecialBytesFall() throws {
        var random = SeededRandom(state: 0x2545_F491_4F6C_DD1D)
        func next() -> UInt64 { random.next() }
        let pieces: [[UInt8]] = [Array("abcdefgh".utf8), [0x22], [0x5C], [0x0A], [0x01], [0x1F], [0x7F], Array("é".utf8), Array("€".utf8), Array("😀".utf8), [0x20]]
        for round in 0..<2_000 {
            var input: [UInt8] = []
            // One input in eight is long: hundreds of pieces and plain runs of up to 700 bytes,
            // across the 512-byte staging buffer of `appendEscaped` several times.
            let long = round % 8 == 0
            for _ in 0..<Int(next() % (long ? 400 : 12)) {
                if long, next() % 16 == 0 {
                    input += Array(repeating: UInt8(ascii: "p"), count: Int(next() % 700))
                } else {
                    input += pieces[Int(next() % UInt64(pieces.count))].prefix(Int(next() % 8) + 1)
                }
            }
            // Prefixes of multi-byte characters are invalid UTF-8: keep only inputs that are valid,
            // which JSONSerialization decodes to the same text.
            guard let text = String(validating: input, as: UTF8.self) else { continue }
            var out: [UInt8] = []
            let replaced = input.withUnsafeBytes { JSONBytes.appendString($0, to: &out) }
            #expect(replaced == 0)
            let decoded = try JSONSerialization.jsonObject(with: Data(out), options: .fragmentsAllowed) as? String
            #expect(decoded == text, "\(input)")
        }
        // Any bytes at all: valid JSON, with one U+FFFD per invalid byte. (Rounds and lengths are
        // kept small enough for a debug build: this test holds one of the suite's two threads.)
        for round in 0..<2_000 {
            let input = (0..<Int(next() % (round % 8 == 0 ? 1_600 : 40))).map { _ in UInt8(truncatingIfNeeded: next()) }
            var out: [UInt8] = []
            let replaced = input.withUnsafeBytes { JSONBytes.appendString($0, to: &out) }
            #expect(out.withUnsafeBytes { JSONBytes.isValid($0) }, "\(input)")
            // What decodes is the input with each invalid byte replaced by U+FFFD (one per byte,
            // unlike String(decoding:), which replaces a cut-short sequence once): nothing lost.
            var expected = ""
            var invalid = 0
            var i = 0
            while i < input.count {
                let scalar = (1...4).lazy.compactMap { length -> (Int, String)? in
                    guard i + length <= input.count, let text = String(validating: input[i..<(i + length)], as: UTF8.self),
                        text.unicodeScalars.count == 1 else { return nil }
                    return (length, text)
                }.first
                if let (length, text) = scalar {
                    expected += text
                    i += length
                } else {
                    expected += "\u{FFFD}"
                    invalid += 1
                    i += 1
                }
            }
            let decoded = try JSONSerialization.jsonObject(with: Data(out), options: .fragmentsAllowed) as? String
            #expect(decoded == expected, "\(input)")
            #expect(replaced == invalid)
        }
    }

    @Test func formatsIntegersAndTimestamps() {
        var out: [UInt8] = []
        JSONBytes.appendInteger(-9_223_372_036_854_775_807, to: &out)
        out.append(32)
        JSONBytes.appendInteger(0, to: &out)
        out.append(32)
        JSONBytes.appendUnsigned(18_446_744_073_709_551_615, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "-9223372036854775807 0 18446744073709551615")
        // Every width, against the standard library's rendering.
        var value: UInt64 = 1
        for _ in 0..<20 {
            for candidate in [value - 1, value, value &+ 7] {
                var digits: [UInt8] = []
                JSONBytes.appendUnsigned(candidate, to: &digits)
                #expect(String(decoding: digits, as: UTF8.self) == String(candidate))
            }
            value = value &* 10
        }
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

@Suite struct JSONFramingTests {
    func single(_ text: String) -> String {
        var out: [UInt8] = []
        Array(text.utf8).withUnsafeBytes { JSONBytes.appendSingleLine($0, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func lineBreaksBetweenTokensBecomeSpaces() {
        #expect(single("{\"a\":\r\n [1,\n2]\n}") == "{\"a\":   [1, 2] }")
        #expect(single(#"{"a":"x\ny"}"#) == #"{"a":"x\ny"}"#, "escaped newlines inside strings stay escaped")
    }

    /// The validator reports raw CR/LF (whitespace between tokens) so encoders can skip the search.
    @Test func validationReportsLineBreaks() {
        func breaks(_ text: String) -> (valid: Bool, breaks: Bool) {
            var found: [Range<Int>?] = []
            var objectBreaks = false
            var valueBreaks = false
            return Array(text.utf8).withUnsafeBytes { bytes in
                let valid = JSONBytes.isValid(bytes, lineBreaks: &valueBreaks)
                if bytes.first == UInt8(ascii: "{") {
                    #expect(JSONBytes.isValidObject(bytes, noting: [], into: &found, lineBreaks: &objectBreaks) == valid)
                    #expect(objectBreaks == valueBreaks, "\(text)")
                }
                return (valid, valueBreaks)
            }
        }
        #expect(breaks(#"{"a":[1,2],"b":{"c":"x\ny"}}"#) == (true, false))
        #expect(breaks("{\"a\":\r[1,2]}") == (true, true))
        #expect(breaks("{\"a\":[1,\n2]}") == (true, true))
        #expect(breaks("{\"a\":1}\n") == (true, true))
        #expect(breaks("\n[1]") == (true, true))
        #expect(breaks("{\"a\":\t 1 }") == (true, false))
        var out: [UInt8] = []
        Array("{\"a\":\n1}".utf8).withUnsafeBytes { JSONBytes.appendSingleLine($0, lineBreaks: true, to: &out) }
        #expect(out == Array("{\"a\": 1}".utf8))
    }

    @Test func invalidUTF8IsReplacedPerByte() {
        let input: [UInt8] = [0x61, 0xC3, 0x62, 0xFF, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0x80, 0xF0, 0x9F, 0x98]
        var out: [UInt8] = []
        let replaced = input.withUnsafeBytes { JSONBytes.replacingInvalidUTF8($0, into: &out) }
        // a, (C3), b, (FF), €, surrogate D800 as three bytes, a truncated 4-byte sequence.
        #expect(String(decoding: out, as: UTF8.self) == "a\u{FFFD}b\u{FFFD}€\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(replaced == 8)
        let valid = Array("héllo".utf8)
        #expect(valid.withUnsafeBytes { JSONBytes.replacingInvalidUTF8($0, into: &out) } == 0)
        #expect(out == valid)
        #expect(valid.withUnsafeBytes { JSONBytes.containsNonASCII($0) })
        #expect(!Array("plain ascii text, long enough for words".utf8).withUnsafeBytes { JSONBytes.containsNonASCII($0) })
    }
}
