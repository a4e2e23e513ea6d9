import LogBridgePipeline
import Testing

@Suite("PCRE2 patterns")
struct PCRE2PatternTests {
    func match(_ pattern: PCRE2Pattern, _ text: String, from start: Int = 0) -> [Range<Int>?]? {
        Array(text.utf8).withUnsafeBytes { pattern.firstMatch(in: $0, from: start) }
    }

    @Test func groupsAndNames() throws {
        let pattern = try PCRE2Pattern(#"(?<user>\w+)@(\w+)\.(?<tld>[a-z]{2,})(x)?"#)
        #expect(pattern.groupCount == 4)
        #expect(pattern.groupNames.map(\.name) == ["user", "tld"])
        #expect(pattern.groupNames.map(\.number) == [1, 3])
        let groups = try #require(match(pattern, "to: eva@example.com"))
        #expect(groups.count == 5)
        #expect(groups[0] == 4..<19)
        #expect(groups[1] == 4..<7)
        #expect(groups[3] == 16..<19)
        #expect(groups[4] == nil)
        #expect(match(pattern, "to: eva@example.com", from: 5)?[0] == 5..<19)
        #expect(match(pattern, "nothing here") == nil)
    }

    @Test func caseInsensitiveAndUTF8Offsets() throws {
        let pattern = try PCRE2Pattern("straße", caseInsensitive: true)
        #expect(match(pattern, "é STRASSE STRAßE")?[0] == 11..<18)
        #expect(try PCRE2Pattern("é").groupCount == 0)
    }

    @Test func compileErrorHasMessageAndOffset() {
        #expect(throws: RedactionError.self) { try PCRE2Pattern("a[b") }
        do {
            _ = try PCRE2Pattern("ab(?<n>c")
        } catch {
            #expect(error.message.contains("offset"))
            #expect(error.message.contains("ab(?<n>c"))
        }
    }

    @Test func limitsStopCatastrophicBacktracking() throws {
        let pattern = try PCRE2Pattern("(a+)+$")
        let input = String(repeating: "a", count: 30) + "b"
        #expect(match(pattern, input) == nil)
        #expect(pattern.limitHits == 1)
        let copy = pattern.copy()
        #expect(copy.limitHits == 0)
        #expect(match(copy, "aaa")?[0] == 0..<3)
    }

    @Test func emptySubjectAndOutOfRangeStart() throws {
        let pattern = try PCRE2Pattern("x*")
        #expect(match(pattern, "")?[0] == 0..<0)
        #expect(match(pattern, "abc", from: 10) == nil)
    }
}
