import Testing
@testable import LogBridgeCore
@testable import LogBridgePipeline

@Suite("strftime formats")
struct StrftimeFormatTests {
    typealias S = ParserTestSupport
    static let second: Int64 = 1_000_000_000
    /// 2026-11-21T10:15:30Z, for the missing-year rule.
    static let now = ParserTestSupport.referenceSeconds(2026, 11, 21, 10, 15, 30)

    @Test func dayMonthYear() throws {
        #expect(try S.strftime("%d/%m/%Y %H:%M", "21/11/2026 10:15") == 1_795_256_100 * Self.second)
        #expect(try S.strftime("%d/%m/%Y %H:%M", "21/11/2026 10:15:00") == nil)
        #expect(try S.strftime("%d/%m/%Y %H:%M", "31/11/2026 10:15") == nil)
    }

    @Test func isoWithOffset() throws {
        let utc = S.referenceSeconds(2026, 11, 21, 10, 15, 30) * Self.second
        let f = "%Y-%m-%dT%H:%M:%S%z"
        #expect(try S.strftime(f, "2026-11-21T12:15:30+0200") == utc)
        #expect(try S.strftime(f, "2026-11-21T12:15:30+02:00") == utc)
        #expect(try S.strftime(f, "2026-11-21T10:15:30Z") == utc)
        #expect(try S.strftime(f, "2026-11-21T10:15:30") == nil)
        #expect(try S.strftime("%Y-%m-%dT%H:%M:%S.%f%z", "2026-11-21T10:15:30.123456Z") == utc + 123_456_000)
        #expect(try S.strftime("%F %T %Z", "2026-11-21 10:15:30 GMT", zone: .fixed(seconds: 3600)) == utc)
        #expect(try S.strftime("%F %T %Z", "2026-11-21 10:15:30 CET") == nil)
    }

    @Test func syslogWithoutYearUsesTheCurrentYear() throws {
        let f = "%b %e %H:%M:%S"
        #expect(try S.strftime(f, "Nov  1 10:15:30", now: Self.now) == S.referenceSeconds(2026, 11, 1, 10, 15, 30) * Self.second)
        #expect(try S.strftime(f, "nov 21 10:15:30", now: Self.now) == Self.now * Self.second)
        #expect(try S.strftime(f, "November 21 10:15:30", now: Self.now) == Self.now * Self.second)
        // A December line read in early January belongs to the previous year.
        let january = S.referenceSeconds(2027, 1, 1, 0, 5)
        #expect(try S.strftime(f, "Dec 31 23:59:59", now: january) == S.referenceSeconds(2026, 12, 31, 23, 59, 59) * Self.second)
        // The real clock is used when none is injected.
        let parsed = try #require(try S.strftime(f, "Jan  1 00:00:00"))
        #expect(parsed > S.referenceSeconds(2025, 1, 1) * Self.second)
    }

    @Test func namedZoneWithDaylightSavingTime() throws {
        let paris = try TimeZoneRule("Europe/Paris")
        #expect(try S.strftime("%Y-%m-%d %H:%M", "2026-07-01 12:00", zone: paris) == 1_782_900_000 * Self.second)
        #expect(try S.strftime("%Y-%m-%d %H:%M", "2026-01-15 12:00", zone: paris) == 1_768_474_800 * Self.second)
    }

    @Test func twelveHourClockNamesAndShortcuts() throws {
        let base = S.referenceSeconds(2026, 11, 21) * Self.second
        #expect(try S.strftime("%a, %d %b %Y %I:%M %p", "Sat, 21 Nov 2026 12:05 AM") == base + 5 * 60 * Self.second)
        #expect(try S.strftime("%A %D %R", "saturday 11/21/26 22:05") == base + (22 * 3600 + 5 * 60) * Self.second)
        #expect(try S.strftime("%I %p", "12 pm", now: Self.now) != nil)
        #expect(try S.strftime("%Y%m%d%H%M%S", "20261121101530") == Self.now * Self.second)
        #expect(try S.strftime("%Y %j", "2026 325") == base)
        #expect(try S.strftime("%Y %j", "2025 366") == nil)
        #expect(try S.strftime("%y-%m-%d", "69-01-01") == S.referenceSeconds(1969, 1, 1) * Self.second)
        #expect(try S.strftime("%Y-%m-%d%n%H%t%M", "2026-11-21 \t10\t15") == base + (10 * 3600 + 15 * 60) * Self.second)
        #expect(try S.strftime("100%% %Y", "100% 2026") == S.referenceSeconds(2026, 1, 1) * Self.second)
    }

    @Test func epochSecondsDirective() throws {
        #expect(try S.strftime("%s", "1700000000") == 1_700_000_000 * Self.second)
        #expect(try S.strftime("%s.%f", "1700000000.25") == 1_700_000_000 * Self.second + 250_000_000)
        #expect(try S.strftime("%s", "-1") == -Self.second)
    }

    @Test func spacesInTheFormatMatchRuns() throws {
        #expect(try S.strftime("%Y-%m-%d %H:%M", "2026-11-21    10:15") == 1_795_256_100 * Self.second)
        #expect(try S.strftime("%Y-%m-%d %H:%M", "2026-11-2110:15") == nil)
    }

    @Test func unknownDirectivesFailAtInit() {
        #expect { try StrftimeFormat("%Y %Q") } throws: { error in
            (error as? TimestampFormatError)?.message.contains("'%Q'") == true
        }
        #expect(throws: TimestampFormatError.self) { try StrftimeFormat("%Y %") }
        #expect(throws: TimestampFormatError.self) { try StrftimeFormat("%c") }
    }

    @Test(arguments: ["", "2026-11-21", "2026-11-21 10:15 ", "x2026-11-21 10:15", "2026-11-21 25:15", "2026-11-21 10:15junk"])
    func mismatchesAreNil(_ text: String) throws {
        #expect(try S.strftime("%Y-%m-%d %H:%M", text) == nil)
    }
}
