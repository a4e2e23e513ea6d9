import Foundation
import LogBridgeCore

/// Reads the common shape of a Loki push body at the byte level, for ``FakeLoki``:
/// `{"streams":[{"stream":{"name":"value",…},"values":[["ns","line"],…]},…]}`.
///
/// Why: `JSONSerialization` was 59% of the fake's CPU in the Loki bench row, where the fake took
/// 2.7 times logbridge's CPU on the same two cores. The result has the types `JSONSerialization`
/// gives (a `[String: Any]` per stream, labels as `[String: String]`, each entry as `[Any]` of
/// strings), so the fake's checks run unchanged on it. Anything else (numbers, structured
/// metadata, unknown keys, a surrogate escape) returns nil and goes through `JSONSerialization`,
/// which also words the errors as Loki does.
public enum LokiPushReader {
    public static func streams(_ body: [UInt8]) -> [[String: Any]]? {
        body.withUnsafeBytes { bytes -> [[String: Any]]? in
            var reader = Cursor(bytes: bytes)
            return reader.push()
        }
    }

    /// A cursor that checks the JSON grammar of the one shape it reads as it goes: each string by
    /// `JSONBytes.scanString` (control bytes, bad escapes and invalid UTF-8 refused), every
    /// structural byte by `take`, nothing after the end. Validating the whole body first
    /// (`JSONBytes.isValid`) was a sixth of the fake's CPU on the Loki bench row.
    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        mutating func push() -> [[String: Any]]? {
            guard take("{"), let key = string(), key == "streams", take(":"), take("[") else { return nil }
            var streams: [[String: Any]] = []
            if take("]") { return take("}") && end() ? streams : nil }
            repeat {
                guard let stream = stream() else { return nil }
                streams.append(stream)
            } while take(",")
            return take("]") && take("}") && end() ? streams : nil
        }

        mutating func stream() -> [String: Any]? {
            guard take("{") else { return nil }
            var result: [String: Any] = [:]
            repeat {
                guard let key = string(), take(":") else { return nil }
                switch key {
                case "stream":
                    guard let labels = labels() else { return nil }
                    result["stream"] = labels
                case "values":
                    guard let values = values() else { return nil }
                    result["values"] = values
                default:
                    return nil
                }
            } while take(",")
            return take("}") ? result : nil
        }

        mutating func labels() -> [String: String]? {
            guard take("{") else { return nil }
            var labels: [String: String] = [:]
            if take("}") { return labels }
            repeat {
                guard let name = string(), take(":"), let value = string() else { return nil }
                labels[name] = value
            } while take(",")
            return take("}") ? labels : nil
        }

        mutating func values() -> [[Any]]? {
            guard take("[") else { return nil }
            var values: [[Any]] = []
            if take("]") { return values }
            repeat {
                guard take("["), let timestamp = string(), take(","), let line = string(), take("]") else { return nil }
                values.append([timestamp, line])
            } while take(",")
            return take("]") ? values : nil
        }

        /// A JSON string, decoded; nil when the next value is not a string.
        mutating func string() -> String? {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\""),
                let (end, escaped) = JSONBytes.scanString(bytes, from: at + 1)
            else { return nil }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[(at + 1)..<end])
            at = end + 1
            return escaped ? Self.unescape(raw) : String(decoding: raw, as: UTF8.self)
        }

        mutating func take(_ byte: Unicode.Scalar) -> Bool {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: byte) else { return false }
            at += 1
            return true
        }

        mutating func end() -> Bool {
            skipSpace()
            return at == bytes.count
        }

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        /// The escapes JSON has; nil for a `\u` surrogate, left to `JSONSerialization`. Not the
        /// pipeline's `ParserBytes.appendUnescaped`: the fakes do not depend on the pipeline, and
        /// that decoder is lenient (a lone surrogate becomes U+FFFD), where this one must decline
        /// whatever `JSONSerialization` might read differently. Written
        /// straight into the string's storage, plain runs copied whole: every line the sink sends
        /// has escaped quotes, and appending byte by byte was a sixth of the fake's CPU.
        static func unescape(_ raw: UnsafeRawBufferPointer) -> String? {
            var failed = false
            // An escape never decodes to more bytes than it takes (`\uFFFF` is 6 for at most 3).
            let text = String(unsafeUninitializedCapacity: raw.count) { out in
                var i = 0
                var n = 0
                while i < raw.count {
                    let run = memchr(raw.baseAddress! + i, Int32(UInt8(ascii: "\\")), raw.count - i)
                        .map { UnsafeRawPointer($0) - raw.baseAddress! } ?? raw.count
                    if run > i {
                        UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: out[n..<(n + run - i)])).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[i..<run]))
                        n += run - i
                        i = run
                        continue
                    }
                    let escape = raw[i + 1]
                    i += 2
                    switch escape {
                    case UInt8(ascii: "b"): out[n] = 0x08
                    case UInt8(ascii: "f"): out[n] = 0x0C
                    case UInt8(ascii: "n"): out[n] = 0x0A
                    case UInt8(ascii: "r"): out[n] = 0x0D
                    case UInt8(ascii: "t"): out[n] = 0x09
                    case UInt8(ascii: "u"):
                        var code: UInt32 = 0
                        for digit in raw[i..<(i + 4)] {
                            code = code << 4 | UInt32(digit <= UInt8(ascii: "9") ? digit &- 48 : (digit | 0x20) &- 87)
                        }
                        i += 4
                        guard let scalar = Unicode.Scalar(code) else {
                            failed = true
                            return 0
                        }
                        for byte in UTF8.encode(scalar)! {
                            out[n] = byte
                            n += 1
                        }
                        continue
                    default: out[n] = escape  // `"`, `\` and `/` stand for themselves
                    }
                    n += 1
                }
                return n
            }
            return failed ? nil : text
        }
    }
}
