import Testing
@testable import LogBridgePipeline

@Suite("CSV records")
struct CSVParserTests {
    typealias S = ParserTestSupport

    @Test func typicalRecord() {
        #expect(S.csv("2026-11-21,GET,/index.html,200,0.012") == ["2026-11-21", "GET", "/index.html", "200", "0.012"])
    }

    @Test func emptyInputHasNoFieldsAndSeparatorsMakeEmptyFields() {
        #expect(S.csv("") == [])
        #expect(S.csv("\r\n") == [])
        #expect(S.csv(",") == ["", ""])
        #expect(S.csv("a,b,") == ["a", "b", ""])
        #expect(S.csv(",,a") == ["", "", "a"])
    }

    @Test func quotedSeparatorsAndDoubledQuotes() {
        #expect(S.csv(#""a,b","say ""hi""",c"#) == ["a,b", #"say "hi""#, "c"])
        #expect(S.csv(#""""#) == [""])
        #expect(S.csv(#""""""#) == [#"""#])
        #expect(S.csv(#"x,"""#) == ["x", ""])
    }

    @Test func lineEndingsAreStrippedOnce() {
        #expect(S.csv("a,b\r\n") == ["a", "b"])
        #expect(S.csv("a,b\n") == ["a", "b"])
    }

    @Test func unterminatedQuoteTakesTheRest() {
        #expect(S.csv(#"a,"b,c"#) == ["a", "b,c"])
        #expect(S.csv(#"a,"b""c"#) == ["a", #"b"c"#])
    }

    @Test func lenientQuotes() {
        #expect(S.csv(#"ab"c,d"#) == [#"ab"c"#, "d"])
        #expect(S.csv(#""ab"cd,e"#) == ["abcd", "e"])
    }

    @Test func otherSeparators() {
        #expect(S.csv("a;\"b;c\";d", CSVParser(separator: 0x3B)) == ["a", "b;c", "d"])
        #expect(S.csv("a\tb\t\tc", CSVParser(separator: 0x09)) == ["a", "b", "", "c"])
        #expect(S.csv("'a|b'|c", CSVParser(separator: 0x7C, quote: 0x27)) == ["a|b", "c"])
    }
}
