@testable import LogBridgeCore
@testable import LogBridgePipeline

/// Test-side adapters from the byte callbacks to plain Swift values.
enum ParserTestSupport {
    struct Pair: Equatable, CustomStringConvertible {
        var key: String
        var value: String?
        init(_ key: String, _ value: String?) { self.key = key; self.value = value }
        var description: String { "\(key)=\(value.map { "\"\($0)\"" } ?? "nil")" }
    }

    static func string(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }

    static func logfmt(_ text: String) -> [Pair] {
        pairs(Array(text.utf8)) { bytes, scratch, body in LogfmtParser.forEachPair(in: bytes, scratch: &scratch, body) }
    }

    static func kv(_ text: String, _ parser: KeyValueParser = KeyValueParser()) -> [Pair] {
        pairs(Array(text.utf8)) { bytes, scratch, body in parser.forEachPair(in: bytes, scratch: &scratch, body) }
    }

    static func pairs(
        _ bytes: [UInt8],
        _ run: (UnsafeRawBufferPointer, inout [UInt8], (UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> Void) -> Void
    ) -> [Pair] {
        var out: [Pair] = []
        var scratch: [UInt8] = []
        bytes.withUnsafeBytes { raw in
            run(raw, &scratch) { k, v in out.append(Pair(string(k), v.map(string))) }
        }
        return out
    }

    static func csv(_ text: String, _ parser: CSVParser = CSVParser()) -> [String] {
        var out: [String] = []
        var scratch: [UInt8] = []
        Array(text.utf8).withUnsafeBytes { raw in
            parser.forEachField(in: raw, scratch: &scratch) { index, field in
                precondition(index == out.count, "indices must be consecutive")
                out.append(string(field))
            }
        }
        return out
    }

    static func cri(_ text: String) -> CRILine? {
        Array(text.utf8).withUnsafeBytes { CRILine.parse($0) }
    }

    static func iso(_ text: String, zone: TimeZoneRule = .utc) -> Int64? {
        Array(text.utf8).withUnsafeBytes { TimestampParser.parseISO8601($0, zone: zone) }
    }

    static func epoch(_ text: String, _ unit: TimestampParser.EpochUnit) -> Int64? {
        Array(text.utf8).withUnsafeBytes { TimestampParser.parseEpoch($0, unit: unit) }
    }

    static func strftime(_ format: String, _ text: String, zone: TimeZoneRule = .utc, now: Int64? = nil) throws -> Int64? {
        let f = try StrftimeFormat(format)
        return Array(text.utf8).withUnsafeBytes { f.parse($0, zone: zone, nowSeconds: now) }
    }

    /// Seconds since the epoch for a UTC civil time, computed by plain day counting, independently
    /// of `CivilTime` (loops over years and months), to cross-check the fast formula.
    static func referenceSeconds(_ y: Int, _ m: Int, _ d: Int, _ hh: Int = 0, _ mm: Int = 0, _ ss: Int = 0) -> Int64 {
        func leap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
        var days = 0
        if y >= 1970 {
            for year in 1970..<y { days += leap(year) ? 366 : 365 }
        } else {
            for year in y..<1970 { days -= leap(year) ? 366 : 365 }
        }
        let monthDays = [31, leap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        for month in 0..<(m - 1) { days += monthDays[month] }
        days += d - 1
        return Int64(days) * 86_400 + Int64(hh * 3600 + mm * 60 + ss)
    }
}
