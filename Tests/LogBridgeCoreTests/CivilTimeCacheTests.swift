import LogBridgeCore
import LogBridgeTestSupport
import Testing

/// The one-entry day cache and the one-append digits the sinks' date rendering uses.
@Suite struct CivilTimeCacheTests {
    /// Whatever order days come in (the same day again, alternating days, days the cache cannot
    /// hold), the cached answer is the computed one.
    @Test func theCachedDateIsAlwaysTheComputedOne() {
        var random = SeededRandom(state: 0x9E37_79B9_7F4A_7C15)
        func next() -> UInt64 { random.next() }
        let around = [0, 1, 20_413, 20_414, 2_932_896, -1, -719_468, Int(UInt32.max), Int(UInt32.max) + 1, 1 << 40]
        for _ in 0..<20_000 {
            let days: Int
            switch next() % 4 {
            case 0: days = around[Int(next() % UInt64(around.count))]
            case 1: days = 20_413 + Int(next() % 3)
            case 2: days = Int(truncatingIfNeeded: next()) >> 20
            default: days = Int(next() % 5_000_000)
            }
            let cached = CivilTime.civilFromDaysCached(days)
            let computed = CivilTime.civilFromDays(days)
            #expect(cached == computed, "days \(days)")
            #expect(CivilTime.civilFromDaysCached(days) == computed, "days \(days), asked again")
        }
    }

    @Test func paddedDigitsAreTheLowDigitsOfTheValue() {
        func padded(_ value: Int, _ width: Int) -> String {
            var out: [UInt8] = Array("x".utf8)
            Timestamp.appendPadded(value, width: width, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(padded(7, 2) == "x07")
        #expect(padded(2026, 4) == "x2026")
        #expect(padded(12_345, 4) == "x2345")
        #expect(padded(0, 3) == "x000")
        #expect(padded(999, 3) == "x999")
        #expect(padded(12_345_678, 8) == "x12345678")
        #expect(padded(5, 1) == "x5")
    }
}
