import Foundation
import LogBridgeFakes
import LogBridgeTestSupport
import Testing

/// The Loki fake's byte-level reader must read a push exactly as `JSONSerialization` does (the
/// fake's checks run on its output), and leave every other shape to `JSONSerialization`.
@Suite struct LokiPushReaderTests {
    /// Strings with what escaping has to get right: quotes, backslashes, slashes, control bytes,
    /// multi-byte characters and an emoji (a surrogate pair once escaped as `\u`).
    static func randomText(_ random: inout SeededRandom) -> String {
        let pieces = ["a", "plain words ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "日本", "😀", "{\"k\":1}", " "]
        return (0..<Int(random.next() % 12)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
    }

    static func normalized(_ streams: [[String: Any]]) -> [[String]] {
        streams.map { stream in
            let labels = (stream["stream"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let values = (stream["values"] as? [[Any]] ?? []).map { $0.map { $0 as? String ?? "<not a string>" }.joined(separator: "|") }
            return labels + ["--"] + values
        }
    }

    @Test func readsPushesAsJSONSerializationDoes() throws {
        var random = SeededRandom(state: 19)
        for _ in 0..<300 {
            let streams: [[String: Any]] = (0..<Int(random.next() % 4)).map { _ in
                var labels: [String: String] = ["job": "logbridge"]
                labels["namespace"] = Self.randomText(&random)
                let values: [[Any]] = (0..<Int(random.next() % 5)).map { n in [String(1_764_000_000_000_000_000 + n), Self.randomText(&random)] }
                return ["stream": labels, "values": values]
            }
            let body = Array(try JSONSerialization.data(withJSONObject: ["streams": streams]))
            // Foundation escapes only what it must; the sink also writes `\u00XX` and `\/`.
            var escaped = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\\n", with: "\\u000a")
            escaped = escaped.replacingOccurrences(of: "/", with: "\\/")
            for text in [String(decoding: body, as: UTF8.self), escaped] {
                let bytes = Array(text.utf8)
                let expected = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])["streams"] as? [[String: Any]]
                let read = try #require(LokiPushReader.streams(bytes), "\(text)")
                #expect(Self.normalized(read) == Self.normalized(try #require(expected)), "\(text)")
            }
        }
    }

    @Test func leavesOtherShapesToJSONSerialization() {
        let others = [
            #"{"streams":[{"stream":{"job":"a"},"values":[[1764000000000000000,"a number for a timestamp"]]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1764000000000000000","line",{"trace_id":"t"}]]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1764000000000000000","a lone surrogate \ud83d"]]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"other":1,"values":[]}]}"#,
            #"{"streams":null}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1","cut short"]]}"#,
            #"{"streams":[]} trailing"#,
            // Not JSON at all: the reader checks the grammar itself (no validation pass first).
            #"{"streams":[{"stream":{"job":"a"},"values":[["1","a bad escape \q"]]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1","a short one \u12"]]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1","a"],]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1" "a"]]}]}"#,
            #"{"streams":[{"stream":{"job":"a",},"values":[]}]}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1","a"]]}]}}"#,
            #"{"streams":[{"stream":{"job":"a"},"values":[["1","unterminated]]}]}"#,
        ]
        for body in others {
            #expect(LokiPushReader.streams(Array(body.utf8)) == nil, "\(body)")
        }
        // Bytes a JSON string cannot hold raw: a control byte, invalid UTF-8.
        for bad: [UInt8] in [[0x01], [0x0A], [0xFF], [0xC3], [0xED, 0xA0, 0x80]] {
            let body = Array(#"{"streams":[{"stream":{"job":"a"},"values":[["1","x"#.utf8) + bad + Array(#"y"]]}]}"#.utf8)
            #expect(LokiPushReader.streams(body) == nil, "\(bad)")
        }
        #expect(LokiPushReader.streams(Array(#" { "streams" : [ ] } "#.utf8))?.isEmpty == true)
    }
}
