import LogBridgeTestSupport
import Testing

@testable import LogBridgePipeline

/// `RedactionScanner.scan()` handles every anchor of a 16-byte window before it loads the next
/// one. It must call the same handlers at the same positions as the byte-by-byte pass, so both
/// find the same matches on any input.
@Suite struct RedactionScannerWindowTests {
    /// A scanner over `bytes` with every built-in detector on, for `body` to drive.
    static func withScanner<R>(_ bytes: [UInt8], json: Bool, _ body: (inout RedactionScanner) -> R) -> R {
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: RedactionKind.count)
        defer { slots.deallocate() }
        for kind in 0..<RedactionKind.count { slots[kind] = kind }
        let scratch = UnsafeMutablePointer<Int>.allocate(capacity: RedactionScanner.scratchCapacity)
        defer { scratch.deallocate() }
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = RedactionScanner(
                base: buffer.baseAddress!, count: buffer.count, json: json, slots: slots, scratch: scratch, matches: [])
            return body(&scanner)
        }
    }

    static func matches(_ bytes: [UInt8], json: Bool, windows: Bool, skipsDateTimes: Bool = true) -> [RedactionMatch] {
        withScanner(bytes, json: json) { scanner in
            scanner.skipsDateTimes = skipsDateTimes
            if windows { scanner.scan() } else { scanner.scanByteByByte() }
            return scanner.matches
        }
    }

    static func same(_ a: [RedactionMatch], _ b: [RedactionMatch]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.start == $1.start && $0.end == $1.end && $0.slot == $1.slot }
    }

    @Test func windowsFindWhatTheByteByBytePassFinds() {
        var inputs = PIICorpus.generate(count: 3_000, seed: 77).map { Array($0.text.utf8) }
        // Anchors packed densely and tokens that straddle windows: pieces of secrets, digits,
        // separators, glued together at random.
        var random = SeededRandom(state: 31)
        let pieces = ["4111 1111 1111 1111", "::1", "2001:db8::7", "a@b.io", "--", "AKIA", "eyJ", "Bearer ", "ghp_", "sk_live_",
                      "xoxb-", "ya29.", "=", ":", "10.0.0.1", "+1 415 555 0100", "123-45-6789", "DE89370400440532013000",
                      "https://u:p@h/", "?token=", "\\n", "\"", " ", "x", "0", "9"].map { Array($0.utf8) }
        for _ in 0..<3_000 {
            var input: [UInt8] = []
            for _ in 0..<Int(random.next() % 40) { input += pieces[Int(random.next() % UInt64(pieces.count))] }
            inputs.append(input)
        }
        var found = 0
        for input in inputs where !input.isEmpty {
            for json in [false, true] {
                let windows = Self.matches(input, json: json, windows: true)
                let bytes = Self.matches(input, json: json, windows: false)
                #expect(Self.same(windows, bytes), "\(String(decoding: input, as: UTF8.self)) json: \(json)")
                found += bytes.count
            }
        }
        #expect(found > 5_000, "the inputs hold secrets: \(found) matches")
    }
}

/// An RFC 3339 date-time is stepped over in one go (`RedactionScanner.rfc3339DateTime`): the scan
/// finds exactly what it finds anchor by anchor, whatever is glued before or after the time.
@Suite struct RedactionScannerDateTimeTests {
    @Test func dateTimesSteppedOverChangeNoMatch() {
        var random = SeededRandom(state: 2026)
        let times = ["2026-12-04T00:00:00.003Z", "2026-12-04T00:00:00Z", "2026-12-04T00:00:00", "1999-01-31T23:59:59.123456789+01:00",
                     "2026-12-04T10:11:12.5Zeyj", "2026-12-04T00:00:00.", "0000-00-00T00:00:00", "2026-12-04T00:00:004111111111111111",
                     "2026-12-04T00:00:00.192.168.0.1", "2026-12-04T00:00:002.192.168.0.1", "2026-12-04T00:00:00.5 555 2671",
                     "2026-12-04T00:00:00-0800", "2026-12-04T00:00:00.1-2", "2026-12-04T00:00:00.123456789012345"]
        let glue = ["4111 1111 1111 1111", "192.168.0.1", "::1", "fe80::1", "+1 415 555 2671", "123-45-6789", "john@example.org",
                    "https://u:p@h", "\\n", "\\u00e9", "\"", " ", "x", "AB", "(", "+", "-", ".", ":", "9", "T", "Z", "eyJ", "_",
                    "-ghp_" + String(repeating: "a1B2", count: 9), "-AKIAIOSFODNN7EXAMPLE", "-eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"]
        var found = 0
        var stepped = 0
        for _ in 0..<20_000 {
            var input: [UInt8] = []
            for _ in 0..<(1 + Int(random.next() % 5)) {
                if random.next() % 2 == 0 { input += Array(times[Int(random.next() % UInt64(times.count))].utf8) }
                for _ in 0..<Int(random.next() % 4) { input += Array(glue[Int(random.next() % UInt64(glue.count))].utf8) }
            }
            guard !input.isEmpty else { continue }
            for json in [false, true] {
                let skipping = RedactionScannerWindowTests.matches(input, json: json, windows: true)
                let reference = RedactionScannerWindowTests.matches(input, json: json, windows: true, skipsDateTimes: false)
                #expect(RedactionScannerWindowTests.same(skipping, reference), "\(String(decoding: input, as: UTF8.self)) json: \(json)")
                found += reference.count
            }
            if input.count >= 19 { stepped += 1 }
        }
        #expect(found > 10_000, "the inputs hold secrets next to the times: \(found) matches")
        #expect(stepped > 10_000)
    }
}

/// The prefilter skips a JSON member's own colon (`RedactionScanner.isInertColon`): the colon
/// handler, run there anyway, must find nothing and resume right after it.
@Suite struct RedactionScannerInertColonTests {
    @Test func theColonHandlerDoesNothingAtAnInertColon() {
        var random = SeededRandom(state: 4_242)
        let pieces = [#""key":"#, #""secretaccesskey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY""#,
                      #""AWS_SECRET_ACCESS_KEY\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"#, #""url":"https://u:p@h""#,
                      #""url":\/\/u:p@h"#, #""ip":"::1""#, #""x"::1"#, #""y":"#, #""Y":"#, #"\":"#, #"":/"#, #"":\"#, "fe80::1",
                      "a@b.io", " ", "\"", "\\", ":", "y", "0", "9", "f"]
        var inert = 0
        for _ in 0..<20_000 {
            var input: [UInt8] = []
            for _ in 0..<(1 + Int(random.next() % 8)) { input += Array(pieces[Int(random.next() % UInt64(pieces.count))].utf8) }
            for json in [false, true] {
                for i in input.indices where input[i] == UInt8(ascii: ":") {
                    RedactionScannerWindowTests.withScanner(input, json: json) { scanner in
                        guard scanner.isInertColon(i) else { return }
                        inert += 1
                        #expect(scanner.colon(i) == i + 1, "\(String(decoding: input, as: UTF8.self)) at \(i)")
                        #expect(scanner.matches.isEmpty, "\(String(decoding: input, as: UTF8.self)) at \(i)")
                    }
                }
            }
        }
        #expect(inert > 10_000)
    }
}
