import Testing
@testable import LogBridgePipeline

@Suite("value conversions")
struct ValueConversionTests {
    func bytes<T>(_ text: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        Array(text.utf8).withUnsafeBytes(body)
    }
    func int(_ t: String) -> Int64? { bytes(t, ValueConversion.parseInteger) }
    func double(_ t: String) -> Double? { bytes(t, ValueConversion.parseDouble) }
    func bool(_ t: String) -> Bool? { bytes(t, ValueConversion.parseBool) }
    func text(_ d: Double) -> String {
        var out: [UInt8] = Array("x".utf8)
        ValueConversion.appendDouble(d, to: &out)
        return String(decoding: out.dropFirst(), as: UTF8.self)
    }

    @Test func integers() {
        #expect(int("42") == 42)
        #expect(int("+42") == 42)
        #expect(int("-0") == 0)
        #expect(int("007") == 7)
        #expect(int("9223372036854775807") == .max)
        #expect(int("-9223372036854775808") == .min)
        #expect(int("9223372036854775808") == nil)
        #expect(int("-9223372036854775809") == nil)
        #expect(int("99999999999999999999999") == nil)
        for bad in ["", "+", "-", "1.0", "1e3", " 1", "1 ", "0x10", "١"] { #expect(int(bad) == nil, "\(bad)") }
    }

    @Test func doubles() throws {
        #expect(double("1e3") == 1000)
        #expect(double("1.5") == 1.5)
        #expect(double("+1.5E-2") == 0.015)
        #expect(double("0.1") == 0.1)
        let negativeZero = try #require(double("-0"))
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(double("1e-400") == 0)
        #expect(double("1e400") == nil)
        #expect(double("123456789012345678901234567890") == 123456789012345678901234567890.0)
        // The input that hung PHP and Java: the largest subnormal.
        #expect(double("2.2250738585072011e-308") == Double(bitPattern: 0x000F_FFFF_FFFF_FFFF))
        for bad in ["", ".5", "5.", "1e", "1e+", "inf", "nan", "NaN", "0x1p3", " 1", "1,5", "--1", "1.2.3"] {
            #expect(double(bad) == nil, "\(bad)")
        }
    }

    @Test func fastPathAgreesWithTheStdlibParser() {
        var state: UInt64 = 7
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1; return state >> 33 }
        var texts = ["0.05", "1.0", "9007199254740993", "9007199254740992e1", "0.1e-22", "123456789.123456789", "1e22", "1e23", "4.35", "0.000001234e-3"]
        for _ in 0..<5000 {
            let mantissa = String(next() % 10_000_000_000_000)
            let point = Int(next() % UInt64(mantissa.count + 1))
            var t = mantissa
            if point < mantissa.count && point > 0 { t.insert(".", at: t.index(t.startIndex, offsetBy: point)) }
            if next() % 2 == 0 { t += "e\(Int(next() % 60) - 30)" }
            texts.append(next() % 3 == 0 ? "-" + t : t)
        }
        for t in texts {
            #expect(double(t) == Double(t), "\(t)")
        }
    }

    @Test func bools() {
        for t in ["true", "TRUE", "Yes", "on", "1", "tRuE"] { #expect(bool(t) == true, "\(t)") }
        for f in ["false", "No", "OFF", "0", "FaLsE"] { #expect(bool(f) == false, "\(f)") }
        for bad in ["", "2", "t", "y", "truee", "nope", " on"] { #expect(bool(bad) == nil, "\(bad)") }
    }

    @Test func doubleTextIsShortestAndJSONValid() {
        #expect(text(1) == "1.0")
        #expect(text(0.1) == "0.1")
        #expect(text(-0.0) == "-0.0")
        #expect(text(1e20) == "1e+20")
        #expect(text(3.141592653589793) == "3.141592653589793")
        #expect(text(.leastNonzeroMagnitude) == "5e-324")
        #expect(text(.infinity) == "null")
        #expect(text(.nan) == "null")
        for v in [0.1 + 0.2, 1.0 / 3.0, 123456.789e10, -2.5e-8, Double.greatestFiniteMagnitude] {
            #expect(Double(text(v)) == v)
        }
    }
}
