import Foundation
import LogBridge
import LogBridgeTestKit
import Testing

/// The latency probe `make bench` relies on: paced records carry their production time in `date`
/// with microseconds, and the fakes find it however the sink framed the record.
struct BenchmarkProbeTests {
    @Test func pacedRecordsCarryMicrosecondDatesAndOthersKeepMilliseconds() {
        let paced = String(decoding: SyntheticLogs.record(7, dateMicros: 1_795_000_000_012_345), as: UTF8.self)
        #expect(paced.hasPrefix(#"{"date":1795000000.012345,"#))
        let seeded = String(decoding: SyntheticLogs.record(7, baseMillis: 1_795_000_000_000), as: UTF8.self)
        #expect(seeded.hasPrefix(#"{"date":1795000000.021,"#))
    }

    @Test func stampsAreFoundInBulkDocumentsHECEventsAndEscapedLokiLines() {
        let body = """
            {"create":{"_index":"logs","_id":"logs-0-1"}}
            {"@timestamp":"x","date":1795000000.000001,"log":"a"}
            {"event":{"date": 1795000000.000002},"fields":{"event_id":"logs-0-2"}}
            {"streams":[{"stream":{"job":"x"},"values":[["1","{\\"date\\":1795000000.000003,\\"log\\":\\"b\\"}"]]}]}
            {"date":1795000000.004,"update":1795000000.000005,"date":"1795000000.000006","date":17950000001.000007}
            """
        var found: [Int64] = []
        Array(body.utf8).withUnsafeBytes { bytes in
            RequestMonitor.forEachStamp(in: bytes) { found.append($0) }
        }
        // Milliseconds only, an `update` key, a quoted value and 11 integer digits are not stamps.
        #expect(found == [1_795_000_000_000_001, 1_795_000_000_000_002, 1_795_000_000_000_003])
    }
}
