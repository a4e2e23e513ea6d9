import Testing
@testable import LogBridgeCore
@testable import LogBridgePipeline

@Suite("timestamps: ISO 8601, epoch, zones")
struct TimestampParserTests {
    typealias S = ParserTestSupport
    static let second: Int64 = 1_000_000_000

    @Test func civilTimeMatchesDayCounting() {
        for (y, m, d) in [(1970, 1, 1), (1969, 12, 31), (2000, 2, 29), (2000, 3, 1), (1900, 3, 1), (2026, 11, 21), (2100, 12, 31), (1678, 1, 1)] {
            let days = CivilTime.daysFromCivil(year: y, month: m, day: d)
            #expect(Int64(days) * 86_400 == S.referenceSeconds(y, m, d), "\(y)-\(m)-\(d)")
            #expect(CivilTime.civilFromDays(days) == (y, m, d))
        }
    }

    @Test func knownInstants() {
        // 1795256130123000000 from the brief, checked against the independent day count.
        let expected = S.referenceSeconds(2026, 11, 21, 10, 15, 30) * Self.second + 123_000_000
        #expect(expected == 1_795_256_130_123_000_000)
        #expect(S.iso("2026-11-21T10:15:30.123Z") == expected)
        #expect(S.iso("1970-01-01T00:00:00Z") == 0)
        #expect(S.iso("1969-12-31T23:59:59.999999999Z") == -1)
        #expect(S.iso("2026-11-21") == S.referenceSeconds(2026, 11, 21) * Self.second)
    }

    @Test func offsetsAndSeparators() {
        let utc = S.referenceSeconds(2026, 11, 21, 10, 15, 30) * Self.second
        #expect(S.iso("2026-11-21T12:15:30+02:00") == utc)
        #expect(S.iso("2026-11-21T12:15:30+0200") == utc)
        #expect(S.iso("2026-11-21T12:15:30+02") == utc)
        #expect(S.iso("2026-11-21T04:45:30-05:30") == utc)
        #expect(S.iso("2026-11-21 10:15:30z") == utc)
        #expect(S.iso("2026-11-21t10:15:30Z") == utc)
        #expect(S.iso("2026-11-21T10:15Z") == utc - 30 * Self.second)
        #expect(S.iso("2026-11-21T12:15:30.123456789+02:00") == utc + 123_456_789)
        #expect(S.iso("2026-11-21T10:15:30,5Z") == utc + 500_000_000)
        #expect(S.iso("2026-11-21T10:15:30.1234567891234Z") == utc + 123_456_789)
    }

    @Test func zoneAppliesOnlyWithoutOffset() throws {
        let utc = S.referenceSeconds(2026, 11, 21, 10, 15, 30) * Self.second
        #expect(S.iso("2026-11-21T12:15:30", zone: .fixed(seconds: 7200)) == utc)
        #expect(S.iso("2026-11-21T10:15:30Z", zone: .fixed(seconds: 7200)) == utc)
        #expect(S.iso("2026-11-21T10:15:30", zone: try TimeZoneRule("-0530")) == utc + 19_800 * Self.second)
    }

    @Test func leapDays() {
        #expect(S.iso("2024-02-29T00:00:00Z") == 1_709_164_800 * Self.second)
        #expect(S.iso("2000-02-29") != nil)
        #expect(S.iso("2023-02-29") == nil)
        #expect(S.iso("1900-02-29") == nil)
    }

    @Test(arguments: [
        "", "2026", "2026-13-01", "2026-00-10", "2026-04-31", "2026-11-00", "2026-11-21T24:00:00Z",
        "2026-11-21T10:60:00Z", "2026-11-21T10:15:61Z", "2026-11-21T10:15:30+24:00", "2026-11-21T10:15:30+02:60",
        "2026-11-21T10:15:30.Z", "2026-11-21T10:15:30Zjunk", "2026-11-21X10:15:30Z", "26-11-21", "2026-1-21",
        "2026-11-21T1:15:30Z", "2026-11-21T10:15:30 Z", "9999-12-31T23:59:59Z",
    ])
    func invalidTimestampsAreRejected(_ text: String) {
        #expect(S.iso(text) == nil)
    }

    @Test func leapSecondRollsIntoTheNextMinute() {
        #expect(S.iso("2016-12-31T23:59:60Z") == S.iso("2017-01-01T00:00:00Z"))
    }

    @Test func namedZoneFollowsDaylightSavingTime() throws {
        let paris = try TimeZoneRule("Europe/Paris")
        #expect(paris == .named("Europe/Paris"))
        // Values from Python's zoneinfo: summer is +02:00, winter +01:00.
        #expect(S.iso("2026-07-01T12:00:00", zone: paris) == 1_782_900_000 * Self.second)
        #expect(S.iso("2026-01-15T12:00:00", zone: paris) == 1_768_474_800 * Self.second)
        #expect(paris.offset(forLocalSeconds: S.referenceSeconds(2026, 7, 1, 12)) == 7200)
        #expect(paris.offset(forLocalSeconds: S.referenceSeconds(2026, 1, 15, 12)) == 3600)
        // Cached hour is reused; the same hour in another zone is not confused with it.
        let newYork = try TimeZoneRule("America/New_York")
        #expect(newYork.offset(forLocalSeconds: S.referenceSeconds(2026, 7, 1, 12)) == -4 * 3600)
        #expect(paris.offset(forLocalSeconds: S.referenceSeconds(2026, 7, 1, 12) + 1) == 7200)
        // In the spring-forward gap the pre-transition offset applies (Python fold=0 agrees).
        #expect(S.iso("2026-03-29T02:30:00", zone: paris) == 1_774_747_800 * Self.second)
        // The repeated autumn hour resolves to standard time (+01:00); Python's fold=0 would pick +02:00.
        #expect(paris.offset(forLocalSeconds: S.referenceSeconds(2026, 10, 25, 2, 30)) == 3600)
        // Around the transition minute by minute.
        #expect(paris.offset(forLocalSeconds: S.referenceSeconds(2026, 3, 29, 1, 59, 59)) == 3600)
        #expect(paris.offset(forLocalSeconds: S.referenceSeconds(2026, 3, 29, 3, 0, 0)) == 7200)
    }

    @Test func zoneRuleParsing() throws {
        #expect(try TimeZoneRule("UTC") == .utc)
        #expect(try TimeZoneRule("z") == .utc)
        #expect(try TimeZoneRule("+00:00") == .utc)
        #expect(try TimeZoneRule("+02:00") == .fixed(seconds: 7200))
        #expect(try TimeZoneRule("-0530") == .fixed(seconds: -19_800))
        #expect(try TimeZoneRule("+05") == .fixed(seconds: 18_000))
        _ = try TimeZoneRule("Local")
        #expect(throws: TimestampFormatError.self) { try TimeZoneRule("Mars/Olympus") }
        #expect(throws: TimestampFormatError.self) { try TimeZoneRule("+2:00") }
        #expect(throws: TimestampFormatError.self) { try TimeZoneRule("") }
    }

    @Test func epochUnits() {
        #expect(S.epoch("1700000000", .seconds) == 1_700_000_000 * Self.second)
        #expect(S.epoch("1700000000.123", .seconds) == 1_700_000_000_123_000_000)
        #expect(S.epoch("1700000000123", .milliseconds) == 1_700_000_000_123_000_000)
        #expect(S.epoch("1700000000123.5", .milliseconds) == 1_700_000_000_123_500_000)
        #expect(S.epoch("1700000000123456", .microseconds) == 1_700_000_000_123_456_000)
        #expect(S.epoch("1700000000123456789", .nanoseconds) == 1_700_000_000_123_456_789)
        #expect(S.epoch("1700000000123456789.9", .nanoseconds) == 1_700_000_000_123_456_789)
        #expect(S.epoch("-1.5", .seconds) == -1_500_000_000)
        #expect(S.epoch("+2", .seconds) == 2 * Self.second)
        #expect(S.epoch("0.000000001999", .seconds) == 1)
    }

    @Test(arguments: ["", "-", ".", "1.", ".5", "1e9", " 1", "1 ", "1x", "99999999999999999999", "9300000000", "--1"])
    func invalidEpochs(_ text: String) {
        #expect(S.epoch(text, .seconds) == nil)
    }
}
