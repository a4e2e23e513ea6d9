import Testing
@testable import LogBridgeCore
@testable import LogBridgePipeline

/// Large, malformed and non-UTF-8 inputs must finish in linear time without trapping.
@Suite("adversarial inputs")
struct AdversarialInputTests {
    static let mebibyte = 1 << 20

    /// Random bytes from a fixed seed, so failures reproduce.
    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    static let inputs: [(String, [UInt8])] = [
        ("quotes", [UInt8](repeating: 0x22, count: mebibyte)),
        ("backslashes", [UInt8](repeating: 0x5C, count: mebibyte)),
        ("equals", [UInt8](repeating: 0x3D, count: mebibyte)),
        ("unterminated", Array("a=\"".utf8) + [UInt8](repeating: 0x61, count: mebibyte)),
        ("invalid UTF-8", [UInt8](repeating: 0xFF, count: mebibyte)),
        ("noise", noise(mebibyte, seed: 42)),
        ("structured noise", (0..<mebibyte).map { Array("a=\"\\, ;'\n".utf8)[$0 % 9] }),
        ("one huge value", Array("k=".utf8) + [UInt8](repeating: 0x78, count: mebibyte)),
    ]

    @Test func everyParserTerminatesOnMalformedMebibytes() throws {
        var scratch: [UInt8] = []
        let kvParsers = [
            KeyValueParser(),
            KeyValueParser(fieldSeparator: Array(", ".utf8), valueSeparator: Array(":=".utf8)),
            KeyValueParser(fieldSeparator: Array(";".utf8), trimQuotes: false),
        ]
        for (name, input) in Self.inputs {
            var total = 0
            input.withUnsafeBytes { raw in
                LogfmtParser.forEachPair(in: raw, scratch: &scratch) { k, v in total &+= k.count &+ (v?.count ?? 0) }
                for p in kvParsers {
                    p.forEachPair(in: raw, scratch: &scratch) { k, v in total &+= k.count &+ (v?.count ?? 0) }
                }
                CSVParser().forEachField(in: raw, scratch: &scratch) { _, f in total &+= f.count }
                CSVParser(separator: 0x3B, quote: 0x27).forEachField(in: raw, scratch: &scratch) { _, f in total &+= f.count }
                _ = CRILine.parse(raw)
                _ = TimestampParser.parseISO8601(raw)
                _ = TimestampParser.parseEpoch(raw, unit: .seconds)
                _ = ValueConversion.parseInteger(raw)
                _ = ValueConversion.parseDouble(raw)
                _ = ValueConversion.parseBool(raw)
            }
            // Output can never exceed a few times the input: no runaway re-reading.
            #expect(total <= input.count * 10, "\(name)")
        }
        let format = try StrftimeFormat("%b %e %H:%M:%S %Y %z")
        for (_, input) in Self.inputs {
            #expect(input.withUnsafeBytes { format.parse($0) } == nil)
        }
    }

    @Test func oneHugeValueIsReportedWhole() {
        let input = Array("k=\"".utf8) + [UInt8](repeating: 0x78, count: Self.mebibyte) + [0x22]
        var seen = 0
        var scratch: [UInt8] = []
        input.withUnsafeBytes { raw in
            LogfmtParser.forEachPair(in: raw, scratch: &scratch) { _, v in seen = v?.count ?? -1 }
        }
        #expect(seen == Self.mebibyte)
    }

    @Test func csvWithMebibyteOfDoubledQuotes() {
        let input = [0x22] + [UInt8](repeating: 0x22, count: 2 * Self.mebibyte) + [0x22]
        var lengths: [Int] = []
        var scratch: [UInt8] = []
        input.withUnsafeBytes { raw in CSVParser().forEachField(in: raw, scratch: &scratch) { _, f in lengths.append(f.count) } }
        #expect(lengths == [Self.mebibyte])
    }
}
