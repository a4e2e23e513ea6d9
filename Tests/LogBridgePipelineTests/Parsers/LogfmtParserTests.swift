import Testing
@testable import LogBridgePipeline

@Suite("logfmt")
struct LogfmtParserTests {
    typealias S = ParserTestSupport
    typealias P = ParserTestSupport.Pair

    @Test func typicalLine() {
        #expect(S.logfmt(#"level=info msg="hello \"x\"" dur=1.2s flag"#)
            == [P("level", "info"), P("msg", #"hello "x""#), P("dur", "1.2s"), P("flag", nil)])
    }

    @Test func emptyAndBlankInput() {
        #expect(S.logfmt("") == [])
        #expect(S.logfmt("   \t \n") == [])
    }

    @Test func emptyValuesAndBareKeys() {
        #expect(S.logfmt(#"a= b="" c"#) == [P("a", ""), P("b", ""), P("c", nil)])
        #expect(S.logfmt("a=1 ") == [P("a", "1")])
    }

    @Test func duplicateKeysAreAllReported() {
        #expect(S.logfmt("a=1 a=2 a") == [P("a", "1"), P("a", "2"), P("a", nil)])
    }

    @Test func escapesInQuotedValues() {
        #expect(S.logfmt(#"m="tab\there\nnl \\ \/ \u00e9 \ud83d\ude00 \q""#)
            == [P("m", "tab\there\nnl \\ / é 😀 q")])
        // Each escaped value is decoded on its own, though they share the scratch buffer.
        #expect(S.logfmt(#"a="\"1\"" b="\"2\"""#) == [P("a", #""1""#), P("b", #""2""#)])
    }

    @Test func quotedValueMayContainSpacesAndEquals() {
        #expect(S.logfmt(#"q="a=b c" n=1"#) == [P("q", "a=b c"), P("n", "1")])
    }

    @Test func unterminatedQuoteTakesTheRest() {
        #expect(S.logfmt(#"a=1 msg="never closed x=2"#) == [P("a", "1"), P("msg", "never closed x=2")])
        #expect(S.logfmt(#"msg="ends in backslash\"#) == [P("msg", "ends in backslash\\")])
    }

    @Test func missingKeyIsSkipped() {
        #expect(S.logfmt(#"=x ="y" a=1"#) == [P("a", "1")])
    }

    @Test func unquotedValueKeepsEqualsAndQuotes() {
        #expect(S.logfmt(#"url=a?b=c x=say"hi""#) == [P("url", "a?b=c"), P("x", #"say"hi""#)])
    }

    @Test func nonASCIIAndInvalidUTF8PassThrough() {
        let bytes: [UInt8] = Array("k=".utf8) + [0xFF, 0xC3] + Array(" é=ü".utf8)
        let pairs = S.pairs(bytes) { b, s, body in LogfmtParser.forEachPair(in: b, scratch: &s, body) }
        #expect(pairs.count == 2)
        #expect(pairs[1] == P("é", "ü"))
    }
}
