import Testing
@testable import LogBridgePipeline

@Suite("key/value")
struct KeyValueParserTests {
    typealias S = ParserTestSupport
    typealias P = ParserTestSupport.Pair

    @Test func defaultsSplitOnSpaceAndEquals() {
        #expect(S.kv("a=1 b=two c") == [P("a", "1"), P("b", "two"), P("c", nil)])
    }

    @Test func emptyInputAndTrailingSeparators() {
        #expect(S.kv("") == [])
        #expect(S.kv("a=1   ") == [P("a", "1")])
        let amp = KeyValueParser(fieldSeparator: Array("&".utf8))
        #expect(S.kv("a=1&&b=2&", amp) == [P("a", "1"), P("b", "2")])
    }

    @Test func quotedValuesMayContainTheFieldSeparator() {
        #expect(S.kv(#"msg="hello world" who='x y' n=1"#) == [P("msg", "hello world"), P("who", "x y"), P("n", "1")])
        let comma = KeyValueParser(fieldSeparator: Array(",".utf8))
        #expect(S.kv(#"a="1,2",b=3"#, comma) == [P("a", "1,2"), P("b", "3")])
    }

    @Test func escapedQuotesInsideQuotedValues() {
        #expect(S.kv(#"m="say \"hi\"" p="C:\temp""#) == [P("m", #"say "hi""#), P("p", #"C:\temp"#)])
    }

    @Test func quotesKeptWhenTrimmingIsOff() {
        let raw = KeyValueParser(trimQuotes: false)
        #expect(S.kv(#"a="x" b='y'"#, raw) == [P("a", #""x""#), P("b", "'y'")])
    }

    @Test func unterminatedQuoteTakesTheRest() {
        #expect(S.kv(#"a=1 b="open c=2"#) == [P("a", "1"), P("b", "open c=2")])
    }

    @Test func quoteNotEndingTheFieldIsRawText() {
        #expect(S.kv(#"a="x"y b=1"#) == [P("a", #""x"y"#), P("b", "1")])
    }

    @Test func multiByteSeparatorsAndTrimming() {
        let parser = KeyValueParser(fieldSeparator: Array(", ".utf8), valueSeparator: Array(": ".utf8))
        #expect(S.kv("host: a, port: 80, empty: , bare", parser)
            == [P("host", "a"), P("port", "80"), P("empty", ""), P("bare", nil)])
        let semi = KeyValueParser(fieldSeparator: Array(";".utf8))
        #expect(S.kv(" a = 1 ; b= two words ;c", semi) == [P("a", "1"), P("b", "two words"), P("c", nil)])
    }

    /// Fuzzing found blank trimming eating the first blank of a separator such as `" | "`
    /// (Fuzz/Corpus/kv/blank-led-separator): quoted values kept their quotes, an empty value took
    /// the rest of the line, and the next key began with `|`.
    @Test func separatorsMayBeginWithABlank() {
        let pipe = KeyValueParser(fieldSeparator: Array(" | ".utf8))
        #expect(S.kv(#"k0="" | k1="""#, pipe) == [P("k0", ""), P("k1", "")])
        #expect(S.kv(#"a="x y" | b=2 | c= | d"#, pipe) == [P("a", "x y"), P("b", "2"), P("c", ""), P("d", nil)])
        let spacedEquals = KeyValueParser(fieldSeparator: Array(",".utf8), valueSeparator: Array(" = ".utf8))
        #expect(S.kv(#""quoted key" = v, b = 2"#, spacedEquals) == [P("quoted key", "v"), P("b", "2")])
    }

    @Test func quotedKeys() {
        let comma = KeyValueParser(fieldSeparator: Array(",".utf8))
        #expect(S.kv(#""user name"="bob", 'k'=v"#, comma) == [P("user name", "bob"), P("k", "v")])
    }

    @Test func duplicateKeysAndMissingKeys() {
        #expect(S.kv("a=1 a=2 =3") == [P("a", "1"), P("a", "2")])
    }

    @Test func valueMayContainTheValueSeparator() {
        #expect(S.kv("q=a=b") == [P("q", "a=b")])
    }
}
